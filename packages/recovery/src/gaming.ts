// The gaming-aware controller (docs/performance.md): while a game session is active — set explicitly, or detected
// when game telemetry exceeds `gamingThresholdPps` — the window is capped at `maxGamingCwnd` and a delay-based
// control in the manner of LEDBAT (RFC 6817) keeps the bottleneck queue below a target derived from
// `targetGamingRtt`. The normal controller underneath keeps its state (it does not grow while the cap holds), so
// when the session times out it resumes where it was, with no slow-start restart.

import { minimumWindow, type CongestionController } from './congestion.js';
import type { RttEstimator } from './rtt.js';

export interface GamingCongestionConfig {
  /** Bytes (default 32768). */
  maxGamingCwnd: number;
  /** Telemetry packets per second that mean "a game is running" (default 100). */
  gamingThresholdPps: number;
  /** Milliseconds of added delay the game tolerates (default 5). */
  targetGamingRtt: number;
  /** Milliseconds without telemetry above the threshold before the session ends (default 30000). */
  gamingSessionTimeout: number;
}

export const DEFAULT_GAMING_CONFIG: Readonly<GamingCongestionConfig> = { maxGamingCwnd: 32768, gamingThresholdPps: 100, targetGamingRtt: 5, gamingSessionTimeout: 30_000 };

/** LEDBAT's GAIN: how fast the window moves toward the delay target. */
const GAIN = 1;

export class GamingController implements CongestionController {
  readonly name: string;
  readonly config: GamingCongestionConfig;
  private delayWindow: number;
  private explicit: boolean | undefined;
  private now = 0;
  /** Telemetry send times in the last second (a ring of timestamps). */
  private readonly telemetry: number[] = [];
  private lastBusy = Number.NEGATIVE_INFINITY;
  private queueingDelay = 0;
  private recoveryStart = Number.NEGATIVE_INFINITY;
  /** LEDBAT++-style start: double per RTT until the queue first reaches half the target. */
  private slowStart = true;
  /** Minimum adjusted RTT of the current sampling interval (one min RTT): ack and pacing noise filtered out. */
  private intervalMin = Number.POSITIVE_INFINITY;
  private intervalStart = 0;
  private currentDelay = Number.POSITIVE_INFINITY;

  constructor(
    readonly base: CongestionController,
    config: Partial<GamingCongestionConfig> = {},
    private mss = 1200,
  ) {
    this.config = { ...DEFAULT_GAMING_CONFIG, ...config };
    this.name = `gaming(${base.name})`;
    this.delayWindow = Math.min(this.config.maxGamingCwnd, base.window);
  }

  /** Sets the session explicitly (true/false), or `undefined` to go back to detection. */
  setGamingSession(active: boolean | undefined, now: number): void {
    this.explicit = active;
    this.now = Math.max(this.now, now);
    if (active === true) this.delayWindow = Math.min(this.delayWindow, this.config.maxGamingCwnd);
  }

  /** A packet of game telemetry was sent (or received): drives detection. */
  onGamingPacket(now: number): void {
    this.now = Math.max(this.now, now);
    const t = this.telemetry;
    t.push(now);
    while (t.length > 0 && t[0]! <= now - 1_000_000) t.shift();
    if (t.length > this.config.gamingThresholdPps) this.lastBusy = now;
  }

  get gamingActive(): boolean {
    if (this.explicit !== undefined) return this.explicit;
    return this.now - this.lastBusy < this.config.gamingSessionTimeout * 1000;
  }

  get window(): number {
    // During a session the delay-based window rules alone (the base is frozen where the session found it).
    return this.gamingActive ? Math.min(this.delayWindow, this.config.maxGamingCwnd) : this.base.window;
  }

  get ssthresh(): number {
    return this.base.ssthresh;
  }

  onPacketSent(now: number, bytes: number, bytesInFlight: number): void {
    this.now = Math.max(this.now, now);
    this.base.onPacketSent(now, bytes, bytesInFlight);
  }

  onPacketAcked(now: number, sentTime: number, bytes: number, rtt: RttEstimator, appLimited: boolean): void {
    this.now = Math.max(this.now, now);
    const active = this.gamingActive;
    // The base controller does not grow while the gaming cap is what limits us.
    this.base.onPacketAcked(now, sentTime, bytes, rtt, appLimited || active);
    if (!active) {
      this.delayWindow = Math.min(this.config.maxGamingCwnd, this.base.window);
      return;
    }
    if (sentTime <= this.recoveryStart) return;
    // RFC 6817 §2.4.2, §3.4.2: the current delay is the smallest sample of the last interval (filters the noise
    // of delayed ACKs and pacing), the queueing delay its excess over the base (minimum) RTT.
    const sample = rtt.latestAdjustedRtt > 0 ? rtt.latestAdjustedRtt : rtt.latestRtt;
    this.intervalMin = Math.min(this.intervalMin, sample);
    const interval = Number.isFinite(rtt.minRtt) ? rtt.minRtt : rtt.smoothedRtt;
    if (now - this.intervalStart >= interval) {
      this.currentDelay = this.intervalMin;
      this.intervalMin = Number.POSITIVE_INFINITY;
      this.intervalStart = now;
    }
    if (!Number.isFinite(this.currentDelay)) this.currentDelay = sample;
    this.queueingDelay = Math.max(0, this.currentDelay - rtt.minRtt);
    const target = (this.config.targetGamingRtt * 1000) / 2;
    if (appLimited) return;
    if (this.slowStart) {
      if (this.queueingDelay < target / 2) {
        this.delayWindow = Math.min(this.config.maxGamingCwnd, this.delayWindow + bytes);
        return;
      }
      this.slowStart = false;
    }
    const offTarget = (target - this.queueingDelay) / target;
    const grow = (GAIN * offTarget * bytes * this.mss) / Math.max(this.delayWindow, this.mss);
    this.delayWindow = Math.min(this.config.maxGamingCwnd, Math.max(minimumWindow(this.mss), this.delayWindow + grow));
  }

  onPacketLost(now: number, sentTime: number, bytes: number): void {
    this.base.onPacketLost(now, sentTime, bytes);
  }

  onCongestionEvent(now: number, sentTime: number): void {
    this.base.onCongestionEvent(now, sentTime);
    if (sentTime <= this.recoveryStart) return;
    this.recoveryStart = now;
    this.slowStart = false;
    this.delayWindow = Math.max(minimumWindow(this.mss), Math.floor(this.delayWindow / 2));
  }

  onPersistentCongestion(now: number): void {
    this.base.onPersistentCongestion(now);
    this.delayWindow = minimumWindow(this.mss);
  }

  onMtuUpdate(maxDatagramSize: number): void {
    this.mss = maxDatagramSize;
    this.base.onMtuUpdate(maxDatagramSize);
  }

  pacingRate(rtt: RttEstimator): number {
    if (!this.gamingActive) return this.base.pacingRate(rtt);
    // Paced over the minimum RTT: the window drains without building a queue.
    return (1.25 * this.window * 1e6) / Math.max(Number.isFinite(rtt.minRtt) ? rtt.minRtt : rtt.smoothedRtt, 1);
  }

  metrics(): { phase: string; [k: string]: number | string } {
    const m = this.base.metrics();
    if (!this.gamingActive) return { ...m, gaming: 0 };
    return { ...m, phase: 'gaming', gaming: 1, congestion_window: this.window, gaming_cwnd: Math.round(this.delayWindow), queueing_delay: Math.round(this.queueingDelay) };
  }
}
