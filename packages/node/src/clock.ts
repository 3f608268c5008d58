// The only clock gquic reads: microseconds since the Unix epoch, monotonic within the process
// (performance.timeOrigin + performance.now()), handed to the sans-IO core as `now`.

const origin = performance.timeOrigin * 1000;

export function nowUs(): number {
  return origin + performance.now() * 1000;
}
