// CUBIC (RFC 9438) with HyStart++ (RFC 9406) for slow start.
//
// Windows are in bytes; the cubic function works in segments of maxDatagramSize (RFC 9438 §4.1) and seconds.

import { initialWindow, minimumWindow, type CongestionController } from './congestion.js';
import type { RttEstimator } from './rtt.js';

/** RFC 9438 §5: C and β_cubic. */
export const CUBIC_C = 0.4;
export const CUBIC_BETA = 0.7;
/** §4.3: α_cubic, the Reno-friendly additive increase that gives the same average rate as Reno. */
const ALPHA_CUBIC = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

// RFC 9406 §4.3 constants.
const MIN_RTT_THRESH = 4_000;
const MAX_RTT_THRESH = 16_000;
const MIN_RTT_DIVISOR = 8;
const N_RTT_SAMPLE = 8;
const CSS_GROWTH_DIVISOR = 4;
const CSS_ROUNDS = 5;

type Phase = 'slow_start' | 'conservative_slow_start' | 'congestion_avoidance' | 'recovery';

export class Cubic implements CongestionController {
  readonly name = 'cubic';
  window: number;
  ssthresh = Number.POSITIVE_INFINITY;
  private mss: number;
  private recoveryStart = Number.NEGATIVE_INFINITY;
  private recovering = false;
  // §4: the state of the current congestion avoidance epoch.
  private wMax = 0;
  private k = 0;
  private epochStart = Number.NEGATIVE_INFINITY;
  /** §4.3: the Reno-friendly estimate, bytes. */
  private wEst = 0;
  private appLimitedSince: number | undefined;
  // HyStart++ (RFC 9406 §4.2): rounds, per-round minimum RTT, CSS.
  private lastSent = 0;
  private roundEnd = Number.NEGATIVE_INFINITY;
  private lastRoundMinRtt = Number.POSITIVE_INFINITY;
  private currentRoundMinRtt = Number.POSITIVE_INFINITY;
  private rttSamples = 0;
  private cssBaselineMinRtt = Number.POSITIVE_INFINITY;
  private cssRounds = -1;
  /** Whether HyStart++ runs in slow start (default on). */
  readonly hystart: boolean;

  constructor(maxDatagramSize = 1200, opts: { hystart?: boolean } = {}) {
    this.mss = maxDatagramSize;
    this.window = initialWindow(maxDatagramSize);
    this.hystart = opts.hystart ?? true;
  }

  get inConservativeSlowStart(): boolean {
    return this.cssRounds >= 0;
  }

  onPacketSent(now: number): void {
    this.lastSent = now;
  }

  onPacketAcked(now: number, sentTime: number, bytes: number, rtt: RttEstimator, appLimited: boolean): void {
    if (sentTime <= this.recoveryStart) return; // §7.3.2 of RFC 9002: no growth for packets sent before recovery
    this.recovering = false;
    if (appLimited) {
      // RFC 9438 §5.8: no growth while the application limits sending, and that time does not count in the epoch.
      if (this.appLimitedSince === undefined) this.appLimitedSince = now;
      return;
    }
    if (this.appLimitedSince !== undefined) {
      if (Number.isFinite(this.epochStart)) this.epochStart += now - this.appLimitedSince;
      this.appLimitedSince = undefined;
    }
    if (this.window < this.ssthresh) {
      this.slowStart(now, sentTime, bytes, rtt);
      return;
    }
    this.congestionAvoidance(now, bytes, rtt);
  }

  /** RFC 9406 §4.2: standard slow start until the RTT grows, then conservative slow start for a few rounds. */
  private slowStart(now: number, sentTime: number, bytes: number, rtt: RttEstimator): void {
    if (!this.hystart) {
      this.window += bytes;
      return;
    }
    // A round ends when a packet sent after the round began is acknowledged.
    if (sentTime > this.roundEnd) {
      this.roundEnd = this.lastSent;
      this.lastRoundMinRtt = this.currentRoundMinRtt;
      this.currentRoundMinRtt = Number.POSITIVE_INFINITY;
      this.rttSamples = 0;
      if (this.cssRounds >= 0 && ++this.cssRounds >= CSS_ROUNDS) {
        // §4.2: after CSS_ROUNDS in CSS, congestion avoidance.
        this.ssthresh = this.window;
        this.cssRounds = -1;
        this.startEpoch(now);
        return;
      }
    }
    const sample = rtt.latestRtt;
    if (sample > 0) {
      this.currentRoundMinRtt = Math.min(this.currentRoundMinRtt, sample);
      this.rttSamples++;
    }
    if (this.cssRounds < 0) {
      this.window += bytes;
      if (this.rttSamples >= N_RTT_SAMPLE && Number.isFinite(this.lastRoundMinRtt)) {
        const thresh = Math.min(MAX_RTT_THRESH, Math.max(MIN_RTT_THRESH, this.lastRoundMinRtt / MIN_RTT_DIVISOR));
        if (this.currentRoundMinRtt >= this.lastRoundMinRtt + thresh) {
          this.cssBaselineMinRtt = this.currentRoundMinRtt;
          this.cssRounds = 0;
        }
      }
    } else {
      this.window += Math.floor(bytes / CSS_GROWTH_DIVISOR);
      // §4.2: the RTT fell back: the increase was spurious, back to slow start.
      if (this.rttSamples >= N_RTT_SAMPLE && this.currentRoundMinRtt < this.cssBaselineMinRtt) {
        this.cssBaselineMinRtt = Number.POSITIVE_INFINITY;
        this.cssRounds = -1;
      }
    }
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    this.wEst = this.window;
    if (this.wMax < this.window) {
      // Entered congestion avoidance without a loss (HyStart++ exit): the plateau is where we are.
      this.wMax = this.window;
      this.k = 0;
    } else {
      this.k = Math.cbrt(((this.wMax - this.window) / this.mss) / CUBIC_C);
    }
  }

  /** RFC 9438 §4.2-4.4: the cubic target one RTT ahead, with the Reno-friendly floor. */
  private congestionAvoidance(now: number, bytes: number, rtt: RttEstimator): void {
    if (this.epochStart === Number.NEGATIVE_INFINITY) this.startEpoch(now);
    const t = (now - this.epochStart + rtt.smoothedRtt) / 1e6;
    const wCubic = (CUBIC_C * (t - this.k) ** 3) * this.mss + this.wMax;
    // §4.3: Reno-friendly estimate, α_cubic segments per window of acknowledged bytes (1 once past wMax).
    const alpha = this.wEst >= this.wMax ? 1 : ALPHA_CUBIC;
    this.wEst += (alpha * this.mss * bytes) / this.window;
    if (wCubic < this.wEst) {
      this.window = Math.max(this.window, Math.floor(this.wEst));
      return;
    }
    // §4.4-4.5: towards the target, at most 1.5x per RTT.
    const target = Math.min(Math.max(wCubic, this.window), 1.5 * this.window);
    this.window += Math.floor(((target - this.window) * bytes) / this.window);
  }

  onPacketLost(): void {}

  /** RFC 9438 §4.6-4.7: multiplicative decrease with fast convergence. */
  onCongestionEvent(now: number, sentTime: number): void {
    if (sentTime <= this.recoveryStart) return;
    this.recoveryStart = now;
    this.recovering = true;
    this.cssRounds = -1;
    // Fast convergence: a flow losing before reaching its previous plateau releases bandwidth.
    this.wMax = this.window < this.wMax ? (this.window * (1 + CUBIC_BETA)) / 2 : this.window;
    this.ssthresh = Math.max(Math.floor(this.window * CUBIC_BETA), minimumWindow(this.mss));
    this.window = this.ssthresh;
    this.startEpoch(now);
  }

  onPersistentCongestion(now: number): void {
    this.window = minimumWindow(this.mss);
    this.recoveryStart = now;
    this.epochStart = Number.NEGATIVE_INFINITY;
    this.wMax = 0;
  }

  onMtuUpdate(maxDatagramSize: number): void {
    this.mss = maxDatagramSize;
    this.window = Math.max(this.window, minimumWindow(maxDatagramSize));
  }

  /** RFC 9002 §7.7: 1.25 windows per smoothed RTT (2x in slow start, to keep up with the growth). */
  pacingRate(rtt: RttEstimator): number {
    const gain = this.window < this.ssthresh ? 2 : 1.25;
    return (gain * this.window * 1e6) / Math.max(rtt.smoothedRtt, 1);
  }

  metrics(): { phase: Phase; congestion_window: number; ssthresh: number; w_max: number } {
    const phase: Phase = this.recovering ? 'recovery' : this.window < this.ssthresh ? (this.cssRounds >= 0 ? 'conservative_slow_start' : 'slow_start') : 'congestion_avoidance';
    return { phase, congestion_window: this.window, ssthresh: this.ssthresh, w_max: Math.round(this.wMax) };
  }
}
