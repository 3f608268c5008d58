// RFC 9002 §5: RTT estimation. All times are microseconds.

/** §6.2.2: the RTT assumed before the first sample. */
export const K_INITIAL_RTT_US = 333_000;
/** §6.1.2: timer granularity. */
export const K_GRANULARITY_US = 1_000;

export class RttEstimator {
  latestRtt = 0;
  /** The latest sample less the peer's ack delay (§5.3's adjusted_rtt), for delay-based control. */
  latestAdjustedRtt = 0;
  /** The minimum RTT seen (§5.2); Infinity before the first sample. */
  minRtt = Number.POSITIVE_INFINITY;
  smoothedRtt: number;
  rttVar: number;
  /** Whether an RTT sample has been taken. */
  hasSample = false;
  /** When minRtt was last set from a sample (for persistent-congestion resets, §5.2). */
  minRttSetAt = 0;

  constructor(readonly initialRttUs = K_INITIAL_RTT_US) {
    this.smoothedRtt = initialRttUs;
    this.rttVar = initialRttUs / 2;
  }

  /**
   * §5.3: a sample from an ACK that newly acknowledged the largest packet number, which was ack-eliciting.
   * `ackDelayUs` is the peer's reported delay; it is capped by max_ack_delay once the handshake is confirmed and
   * never subtracted below min_rtt.
   */
  update(latestRttUs: number, ackDelayUs: number, handshakeConfirmed: boolean, maxAckDelayUs: number, now: number): void {
    this.latestRtt = latestRttUs;
    this.latestAdjustedRtt = latestRttUs;
    if (!this.hasSample) {
      this.minRtt = latestRttUs;
      this.minRttSetAt = now;
      this.smoothedRtt = latestRttUs;
      this.rttVar = latestRttUs / 2;
      this.hasSample = true;
      return;
    }
    if (latestRttUs < this.minRtt) {
      this.minRtt = latestRttUs;
      this.minRttSetAt = now;
    }
    const ackDelay = handshakeConfirmed ? Math.min(ackDelayUs, maxAckDelayUs) : ackDelayUs;
    let adjusted = latestRttUs;
    if (latestRttUs >= this.minRtt + ackDelay) adjusted = latestRttUs - ackDelay;
    this.latestAdjustedRtt = adjusted;
    this.rttVar = (3 / 4) * this.rttVar + (1 / 4) * Math.abs(this.smoothedRtt - adjusted);
    this.smoothedRtt = (7 / 8) * this.smoothedRtt + (1 / 8) * adjusted;
  }

  /** §6.2.1: the probe timeout period, with max_ack_delay only for the application data space. */
  pto(maxAckDelayUs: number): number {
    return this.smoothedRtt + Math.max(4 * this.rttVar, K_GRANULARITY_US) + maxAckDelayUs;
  }

  /** §7.6.2 / §5.2: after persistent congestion, min_rtt is re-established from the next sample. */
  resetMinRtt(): void {
    this.minRtt = this.latestRtt;
  }
}
