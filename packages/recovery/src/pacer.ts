// Pacing (RFC 9002 §7.7): a token bucket filled at the controller's pacing rate, holding a small burst, so that a
// window is spread over the round trip instead of leaving in one burst that overflows a bottleneck queue.

/** Packets a burst may hold: enough to cover a timer's granularity (~1 ms) at common rates. */
export const PACING_BURST_PACKETS = 10;
/** A timer may fire this late (µs); the burst allowance covers it. */
const TIMER_SLACK_US = 2000;

export class Pacer {
  private tokens: number;
  private last = 0;
  private capacity: number;

  constructor(
    private mss: number,
    private readonly burstPackets = PACING_BURST_PACKETS,
  ) {
    this.capacity = burstPackets * mss;
    this.tokens = this.capacity;
  }

  onMtuUpdate(mss: number): void {
    this.mss = mss;
    this.capacity = this.burstPackets * mss;
  }

  /**
   * When a packet of `size` bytes may leave at `rate` bytes/s: `now` if the bucket holds enough, else the time it
   * will. The burst never exceeds the congestion window.
   */
  nextSendTime(now: number, size: number, rate: number, window: number): number {
    if (!Number.isFinite(rate) || rate <= 0) return now;
    // The burst also covers the timer granularity at high rates (2 ms worth), so timers do not cap the rate.
    const cap = Math.max(2 * this.mss, Math.min(Math.max(this.capacity, (rate * TIMER_SLACK_US) / 1e6), window));
    if (now > this.last) {
      this.tokens = Math.min(cap, this.tokens + ((now - this.last) * rate) / 1e6);
      this.last = now;
    }
    if (this.tokens >= size) return now;
    return now + Math.ceil(((size - this.tokens) * 1e6) / rate);
  }

  onPacketSent(size: number): void {
    this.tokens -= size;
  }
}
