// CUBIC (RFC 9438) and HyStart++ (RFC 9406), driven directly with acknowledgments and losses.

import { describe, expect, it } from 'vitest';
import { CUBIC_BETA, CUBIC_C, Cubic } from './cubic.js';
import { RttEstimator } from './rtt.js';

const MSS = 1200;

function rtt(us: number): RttEstimator {
  const r = new RttEstimator();
  r.update(us, 0, true, 25_000, 0);
  return r;
}

/** One round trip: a window's worth of packets sent at `now`, all acknowledged one RTT later. */
function round(c: Cubic, now: number, r: RttEstimator, latest = r.smoothedRtt): number {
  const n = Math.floor(c.window / MSS);
  for (let i = 0; i < n; i++) c.onPacketSent(now + i);
  r.latestRtt = latest;
  for (let i = 0; i < n; i++) c.onPacketAcked(now + r.smoothedRtt + i, now + i, MSS, r, false);
  return now + r.smoothedRtt + n;
}

describe('CUBIC', () => {
  it('multiplicative decrease by β = 0.7, and window growth following the cubic curve back to W_max', () => {
    // A long RTT and a large window: the cubic region, not the Reno-friendly one (RFC 9438 §4.3).
    const c = new Cubic(MSS, { hystart: false });
    const r = rtt(100_000);
    let now = 1_000_000;
    while (c.window < 1000 * MSS) now = round(c, now, r);
    const before = c.window;
    c.onCongestionEvent(now, now);
    expect(c.window).toBe(Math.floor(before * CUBIC_BETA));
    expect(c.metrics().phase).toBe('recovery');
    // K = cbrt(W_max (1 - β) / C) seconds until the window is back at W_max.
    const k = Math.cbrt(((before / MSS) * (1 - CUBIC_BETA)) / CUBIC_C);
    const start = now;
    now += 1;
    while (c.window < before && now - start < 10 * k * 1e6) now = round(c, now, r);
    const took = (now - start) / 1e6;
    expect(took).toBeGreaterThan(k * 0.7);
    expect(took).toBeLessThan(k * 1.3);
    // Concave then convex: growth slows near W_max and speeds up past it.
    const atMax = c.window;
    now = round(c, now, r);
    const slow = c.window - atMax;
    for (let i = 0; i < Math.ceil((k * 1e6) / 100_000); i++) now = round(c, now, r);
    const w1 = c.window;
    now = round(c, now, r);
    expect(c.window - w1).toBeGreaterThan(slow);
  });

  it('fast convergence: a loss below the previous plateau lowers W_max further', () => {
    const c = new Cubic(MSS, { hystart: false });
    const r = rtt(20_000);
    let now = 1_000_000;
    while (c.window < 100 * MSS) now = round(c, now, r);
    c.onCongestionEvent(now, now);
    now = round(c, now + 1, r);
    const w = c.window;
    c.onCongestionEvent(now, now);
    expect(c.metrics().w_max).toBe(Math.round((w * (1 + CUBIC_BETA)) / 2));
  });

  it('no growth while application limited', () => {
    const c = new Cubic(MSS);
    const r = rtt(20_000);
    const w = c.window;
    for (let i = 0; i < 100; i++) c.onPacketAcked(1000 + i, i, MSS, r, true);
    expect(c.window).toBe(w);
  });
});

describe('HyStart++ (RFC 9406)', () => {
  it('leaves slow start when the RTT rises: conservative slow start, then congestion avoidance after 5 rounds', () => {
    const c = new Cubic(MSS);
    const r = rtt(20_000);
    let now = 1_000_000;
    for (let i = 0; i < 4; i++) now = round(c, now, r, 20_000);
    expect(c.metrics().phase).toBe('slow_start');
    const before = c.window;
    // The queue builds: +8 ms (> max(4 ms, 20/8 ms)).
    now = round(c, now, r, 28_000);
    expect(c.inConservativeSlowStart).toBe(true);
    // CSS grows at a quarter of slow start's rate: a quarter window per round instead of a whole one.
    const w0 = c.window;
    now = round(c, now, r, 28_000);
    expect(c.window - w0).toBeGreaterThan(w0 / 4 - 2 * MSS);
    expect(c.window - w0).toBeLessThan(w0 / 4 + 2 * MSS);
    expect(w0).toBeGreaterThan(before);
    for (let i = 0; i < 5; i++) now = round(c, now, r, 28_000);
    expect(c.metrics().phase).toBe('congestion_avoidance');
    expect(c.ssthresh).toBeLessThan(Number.POSITIVE_INFINITY);
  });

  it('goes back to slow start when the RTT falls below the CSS baseline (a spurious exit)', () => {
    const c = new Cubic(MSS);
    const r = rtt(20_000);
    let now = 1_000_000;
    for (let i = 0; i < 3; i++) now = round(c, now, r, 20_000);
    now = round(c, now, r, 30_000);
    expect(c.inConservativeSlowStart).toBe(true);
    now = round(c, now, r, 21_000);
    expect(c.inConservativeSlowStart).toBe(false);
    expect(c.metrics().phase).toBe('slow_start');
  });
});
