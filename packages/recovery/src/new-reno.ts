// RFC 9002 §7.3 and Appendix B: NewReno — slow start, recovery, congestion avoidance.

import { initialWindow, minimumWindow, type CongestionController } from './congestion.js';
import type { RttEstimator } from './rtt.js';

/** §7.2: kLossReductionFactor. */
export const K_LOSS_REDUCTION_FACTOR = 0.5;

export class NewReno implements CongestionController {
  readonly name = 'new_reno';
  window: number;
  ssthresh = Number.POSITIVE_INFINITY;
  /** Send time at which the current recovery period started (§7.3.2); packets sent before it do not grow the window. */
  private recoveryStart = Number.NEGATIVE_INFINITY;
  /** Bytes acknowledged in congestion avoidance not yet turned into window growth. */
  private avoidanceCredit = 0;
  /** In a recovery period: until a packet sent after it began is acknowledged. */
  private recovering = false;

  constructor(private maxDatagramSize = 1200) {
    this.window = initialWindow(maxDatagramSize);
  }

  private inRecovery(sentTime: number): boolean {
    return sentTime <= this.recoveryStart;
  }

  onPacketSent(): void {}

  onPacketAcked(_now: number, sentTime: number, bytes: number, _rtt: RttEstimator, appLimited: boolean): void {
    // §7.3.2: no growth for packets sent before recovery began; §7.8: nor while application limited.
    if (this.inRecovery(sentTime)) return;
    this.recovering = false;
    if (appLimited) return;
    if (this.window < this.ssthresh) {
      this.window += bytes; // slow start
      return;
    }
    // Congestion avoidance: one max_datagram_size per window of acknowledged bytes.
    this.avoidanceCredit += bytes;
    if (this.avoidanceCredit >= this.window) {
      this.avoidanceCredit -= this.window;
      this.window += this.maxDatagramSize;
    }
  }

  onPacketLost(): void {}

  onCongestionEvent(now: number, sentTime: number): void {
    if (this.inRecovery(sentTime)) return; // one reduction per round trip
    this.recoveryStart = now;
    this.recovering = true;
    this.ssthresh = Math.max(Math.floor(this.window * K_LOSS_REDUCTION_FACTOR), minimumWindow(this.maxDatagramSize));
    this.window = this.ssthresh;
    this.avoidanceCredit = 0;
  }

  onPersistentCongestion(now: number): void {
    this.window = minimumWindow(this.maxDatagramSize);
    this.recoveryStart = now;
    this.avoidanceCredit = 0;
  }

  onMtuUpdate(maxDatagramSize: number): void {
    this.maxDatagramSize = maxDatagramSize;
    this.window = Math.max(this.window, minimumWindow(maxDatagramSize));
  }

  /** §7.7: pace at N = 1.25 times the window per smoothed RTT. */
  pacingRate(rtt: RttEstimator): number {
    return (1.25 * this.window * 1e6) / Math.max(rtt.smoothedRtt, 1);
  }

  metrics(): { phase: string; congestion_window: number; ssthresh: number } {
    const phase = this.recovering ? 'recovery' : this.window < this.ssthresh ? 'slow_start' : 'congestion_avoidance';
    return { phase, congestion_window: this.window, ssthresh: this.ssthresh };
  }
}
