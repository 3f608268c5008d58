// BBR, after BBRv3 (draft-ietf-ccwg-bbr): a model of the path — the bottleneck bandwidth (windowed max of
// delivery-rate samples) and the minimum RTT — sets the pacing rate and a window of a few BDPs, instead of
// reacting to every loss. States: Startup (gain 2.77) until the bandwidth stops growing or loss exceeds 2% in a
// round; Drain; ProbeBW cycling DOWN / CRUISE / REFILL / UP, the next probe 2-3 s (randomized) or a
// Reno-coexistence number of rounds later; ProbeRTT every 5 s for 200 ms. Loss shapes the model as in v3: a
// round losing more than 2% lowers inflight_hi (×0.7); any loss outside probing lowers the short-term bounds
// bw_lo and inflight_lo (×0.7, not under the last round's delivery), which reset when the next probe starts.
//
// Simplified against the draft: inflight_hi is never lowered under the model's BDP; ProbeBW_UP ends after one
// min RTT at 1.25 BDP in flight (or two min RTTs) rather than growing its probe exponentially; no ECN.
// Delivery-rate samples follow draft-cheng-iccrg-delivery-rate-estimation, kept inside the controller and keyed
// by send time (the congestion controller interface reports sends and acks by time).

import { initialWindow, minimumWindow, type CongestionController } from './congestion.js';
import type { RttEstimator } from './rtt.js';

const STARTUP_PACING_GAIN = 2.77;
const STARTUP_CWND_GAIN = 2;
const DRAIN_PACING_GAIN = 1 / 2.77;
const CWND_GAIN = 2;
const LOSS_THRESH = 0.02;
const BETA = 0.7;
const PROBE_RTT_INTERVAL = 5_000_000;
const PROBE_RTT_DURATION = 200_000;
const MIN_RTT_WINDOW = 10_000_000;
/** Rounds the bandwidth max filter spans (about two ProbeBW cycles). */
const BW_WINDOW_ROUNDS = 10;
const FULL_BW_THRESH = 1.25;
const FULL_BW_COUNT = 3;

type State = 'startup' | 'drain' | 'probe_bw_down' | 'probe_bw_cruise' | 'probe_bw_refill' | 'probe_bw_up' | 'probe_rtt';

interface Snapshot {
  delivered: number;
  deliveredTime: number;
  firstSentTime: number;
  appLimited: boolean;
  refs: number;
}

export class Bbr implements CongestionController {
  readonly name = 'bbr';
  private mss: number;
  private state: State = 'startup';
  private cwnd: number;
  // Delivery rate estimation.
  private delivered = 0;
  private deliveredTime = 0;
  private firstSentTime = 0;
  private readonly snapshots = new Map<number, Snapshot>();
  private appLimitedUntil = 0;
  // The model.
  private readonly bwSamples: Array<{ round: number; bw: number }> = [];
  private maxBw = 0;
  private minRtt = Number.POSITIVE_INFINITY;
  private minRttStamp = 0;
  private inflightHi = Number.POSITIVE_INFINITY;
  // Rounds.
  private round = 0;
  private nextRoundDelivered = 0;
  private roundLost = 0;
  private roundDelivered = 0;
  // Startup exit.
  private fullBw = 0;
  private fullBwCount = 0;
  // Phases.
  private phaseStart = 0;
  private probeRttDoneAt = 0;
  private priorCwnd = 0;
  private bytesInFlight = 0;
  // v3's short-term model (draft §5.5.10.3): lower bounds after rounds with loss, reset when probing.
  private bwLo = Number.POSITIVE_INFINITY;
  private inflightLo = Number.POSITIVE_INFINITY;
  /** The latest round's best delivery rate and delivered volume (bw_latest, inflight_latest). */
  private bwLatest = 0;
  private roundBwMax = 0;
  private inflightLatest = 0;
  /** §5.3.3.6: when (wall clock and rounds) the next bandwidth probe starts. */
  private probeWaitUs = 2_500_000;
  private probeWaitRounds = 0;
  private roundsSinceProbe = 0;
  private readonly random: () => number;

  /** `random` spreads the probe timing (§5.3.3.6); the default is a fixed-seed generator, so runs are repeatable. */
  constructor(maxDatagramSize = 1200, random: () => number = xorshift(0x9e3779b9)) {
    this.mss = maxDatagramSize;
    this.cwnd = initialWindow(maxDatagramSize);
    this.random = random;
  }

  /** The bandwidth the model uses: the max filter, bounded by the short-term lower bound. */
  private get bw(): number {
    return Math.min(this.maxBw, this.bwLo);
  }

  get window(): number {
    return this.cwnd;
  }

  get ssthresh(): number {
    return Number.POSITIVE_INFINITY;
  }

  private bdp(gain = 1): number {
    if (this.maxBw === 0 || !Number.isFinite(this.minRtt)) return initialWindow(this.mss);
    return (gain * this.bw * this.minRtt) / 1e6;
  }

  onPacketSent(now: number, bytes: number, bytesInFlight: number): void {
    this.bytesInFlight = bytesInFlight;
    if (bytesInFlight <= bytes) {
      // Sending from idle: the delivery clock restarts (draft-cheng §3.2).
      this.firstSentTime = now;
      this.deliveredTime = now;
    }
    const s = this.snapshots.get(now);
    if (s !== undefined) s.refs++;
    else this.snapshots.set(now, { delivered: this.delivered, deliveredTime: this.deliveredTime, firstSentTime: this.firstSentTime, appLimited: now < this.appLimitedUntil, refs: 1 });
  }

  private release(sentTime: number): Snapshot | undefined {
    const s = this.snapshots.get(sentTime);
    if (s !== undefined && --s.refs === 0) this.snapshots.delete(sentTime);
    return s;
  }

  onPacketAcked(now: number, sentTime: number, bytes: number, rtt: RttEstimator, appLimited: boolean): void {
    const snap = this.release(sentTime);
    this.delivered += bytes;
    this.deliveredTime = now;
    this.roundDelivered += bytes;
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
    if (appLimited) this.appLimitedUntil = now + (Number.isFinite(this.minRtt) ? this.minRtt : 0);
    // min_rtt, with its 10 s window.
    if (rtt.latestRtt > 0 && (rtt.latestRtt <= this.minRtt || now - this.minRttStamp > MIN_RTT_WINDOW)) {
      this.minRtt = rtt.latestRtt;
      this.minRttStamp = now;
    }
    // A delivery-rate sample (draft-cheng §3.3): the slower of the send and ack rates over the interval.
    if (snap !== undefined) {
      this.firstSentTime = sentTime;
      const sendElapsed = sentTime - snap.firstSentTime;
      const ackElapsed = now - snap.deliveredTime;
      const interval = Math.max(sendElapsed, ackElapsed);
      if (interval > 0 && (!snap.appLimited || this.delivered - snap.delivered > 0)) {
        const bw = ((this.delivered - snap.delivered) * 1e6) / interval;
        if (!snap.appLimited || bw > this.maxBw) this.addBwSample(bw);
        if (bw > this.roundBwMax) this.roundBwMax = bw;
      }
      // A round ends when a packet sent after the previous round's end is acknowledged.
      if (snap.delivered >= this.nextRoundDelivered) this.startRound();
    }
    this.advance(now);
    this.setWindow();
  }

  /** The windowed max filter (draft §5.5.5): one best sample per round, the last BW_WINDOW_ROUNDS rounds kept. */
  private addBwSample(bw: number): void {
    const last = this.bwSamples[this.bwSamples.length - 1];
    if (last !== undefined && last.round === this.round) {
      if (bw <= last.bw) return;
      last.bw = bw;
    } else {
      this.bwSamples.push({ round: this.round, bw });
      while (this.bwSamples[0]!.round < this.round - BW_WINDOW_ROUNDS) this.bwSamples.shift();
    }
    let m = 0;
    for (const s of this.bwSamples) if (s.bw > m) m = s.bw;
    this.maxBw = m;
  }

  private startRound(): void {
    // Loss rate of the round that ended (v3's congestion signal).
    const lossRate = this.roundLost / Math.max(1, this.roundLost + this.roundDelivered);
    this.bwLatest = this.roundBwMax;
    this.inflightLatest = this.roundDelivered;
    if (lossRate > LOSS_THRESH && this.roundLost > 3 * this.mss) this.onLossyRound();
    // §5.5.10.3: after a round with loss outside bandwidth probing, lower the short-term bounds (×0.7, but not
    // under what the round just delivered).
    if (this.roundLost > 0 && (this.state === 'probe_bw_down' || this.state === 'probe_bw_cruise')) {
      if (!Number.isFinite(this.bwLo)) this.bwLo = this.maxBw;
      if (!Number.isFinite(this.inflightLo)) this.inflightLo = this.cwnd;
      this.bwLo = Math.max(this.bwLatest, BETA * this.bwLo);
      this.inflightLo = Math.max(this.inflightLatest, BETA * this.inflightLo);
    }
    this.roundBwMax = 0;
    this.roundsSinceProbe++;
    this.round++;
    this.nextRoundDelivered = this.delivered;
    this.roundLost = 0;
    this.roundDelivered = 0;
    if (this.state === 'startup') {
      if (this.maxBw >= this.fullBw * FULL_BW_THRESH) {
        this.fullBw = this.maxBw;
        this.fullBwCount = 0;
      } else if (++this.fullBwCount >= FULL_BW_COUNT) {
        this.state = 'drain';
      }
    }
  }

  private onLossyRound(): void {
    const bdp = this.bdp();
    if (this.state === 'startup') {
      this.state = 'drain';
      this.inflightHi = Math.max(bdp, this.bytesInFlight);
      return;
    }
    // v3: lower the inflight bound, but (here) never under the model's BDP.
    this.inflightHi = Math.max(bdp, BETA * Math.min(this.inflightHi, Math.max(this.bytesInFlight, this.cwnd)));
    if (this.state === 'probe_bw_up') this.enter('probe_bw_down', this.deliveredTime);
  }

  private enter(s: State, now: number): void {
    this.state = s;
    this.phaseStart = now;
    if (s === 'probe_bw_down') {
      this.roundsSinceProbe = 0;
      this.probeWaitUs = 2_000_000 + this.random() * 1_000_000;
      this.probeWaitRounds = Math.min(63, Math.max(2, Math.floor(this.bdp() / this.mss))) + Math.floor(this.random() * 2);
    }
  }

  private advance(now: number): void {
    const rtt = Number.isFinite(this.minRtt) ? this.minRtt : 100_000;
    switch (this.state) {
      case 'drain':
        if (this.bytesInFlight <= this.bdp()) this.enter('probe_bw_down', now);
        break;
      case 'probe_bw_down':
        if (now - this.phaseStart >= rtt && this.bytesInFlight <= this.bdp()) this.enter('probe_bw_cruise', now);
        break;
      case 'probe_bw_cruise':
        // §5.3.3.6: the next probe after 2-3 s of wall clock (randomized), or sooner after as many rounds as
        // Reno would need to use the same BDP (at most 63), whichever comes first.
        if (now - this.phaseStart >= this.probeWaitUs || this.roundsSinceProbe >= this.probeWaitRounds) this.enter('probe_bw_refill', now);
        break;
      case 'probe_bw_refill':
        // §5.3.3.4: the short-term bounds go; one round at the estimated rate refills the pipe.
        this.bwLo = Number.POSITIVE_INFINITY;
        this.inflightLo = Number.POSITIVE_INFINITY;
        if (now - this.phaseStart >= rtt) {
          // Probing may raise the bound again.
          this.inflightHi = Math.max(this.inflightHi, this.bdp(1.25));
          this.enter('probe_bw_up', now);
        }
        break;
      case 'probe_bw_up':
        if (now - this.phaseStart >= rtt && (this.bytesInFlight >= this.bdp(1.25) || now - this.phaseStart >= 2 * rtt)) this.enter('probe_bw_down', now);
        break;
      case 'probe_rtt':
        if (now >= this.probeRttDoneAt) {
          this.minRttStamp = now;
          this.cwnd = Math.max(this.cwnd, this.priorCwnd);
          this.enter('probe_bw_down', now);
        }
        break;
      default:
        break;
    }
    if (this.state !== 'probe_rtt' && this.state !== 'startup' && now - this.minRttStamp > PROBE_RTT_INTERVAL) {
      this.priorCwnd = this.cwnd;
      this.probeRttDoneAt = now + Math.max(PROBE_RTT_DURATION, rtt);
      this.enter('probe_rtt', now);
    }
  }

  private setWindow(): void {
    if (this.state === 'probe_rtt') {
      this.cwnd = Math.max(minimumWindow(this.mss), this.bdp(0.5));
      return;
    }
    const gain = this.state === 'startup' ? STARTUP_CWND_GAIN : CWND_GAIN;
    let target = this.bdp(gain) + 3 * this.mss;
    if (this.state !== 'startup' && this.state !== 'probe_bw_up') target = Math.min(target, this.inflightHi, this.inflightLo);
    if (this.state === 'startup') target = Math.max(target, this.cwnd); // never shrink while starting up
    this.cwnd = Math.max(minimumWindow(this.mss), Math.floor(target));
  }

  private pacingGain(): number {
    switch (this.state) {
      case 'startup':
        return STARTUP_PACING_GAIN;
      case 'drain':
        return DRAIN_PACING_GAIN;
      case 'probe_bw_down':
        return 0.9;
      case 'probe_bw_up':
        return 1.25;
      default:
        return 1;
    }
  }

  onPacketLost(_now: number, sentTime: number, bytes: number): void {
    this.release(sentTime);
    this.roundLost += bytes;
    this.bytesInFlight = Math.max(0, this.bytesInFlight - bytes);
  }

  /** Loss is handled per round (the loss rate), not per event. */
  onCongestionEvent(): void {}

  onPersistentCongestion(): void {
    this.cwnd = minimumWindow(this.mss);
    this.inflightHi = Math.max(this.bdp(), minimumWindow(this.mss));
  }

  onMtuUpdate(maxDatagramSize: number): void {
    this.mss = maxDatagramSize;
  }

  pacingRate(rtt: RttEstimator): number {
    if (this.maxBw === 0) return (STARTUP_PACING_GAIN * this.cwnd * 1e6) / Math.max(rtt.smoothedRtt, 1);
    return this.pacingGain() * this.bw * 0.99;
  }

  metrics(): { phase: string; congestion_window: number; ssthresh: number; bandwidth: number; min_rtt: number; inflight_hi: number; inflight_lo: number; bw_lo: number } {
    return {
      phase: this.state,
      congestion_window: this.cwnd,
      ssthresh: Number.POSITIVE_INFINITY,
      bandwidth: Math.round(this.maxBw * 8),
      min_rtt: Number.isFinite(this.minRtt) ? this.minRtt : 0,
      inflight_hi: Number.isFinite(this.inflightHi) ? Math.round(this.inflightHi) : -1,
      inflight_lo: Number.isFinite(this.inflightLo) ? Math.round(this.inflightLo) : -1,
      bw_lo: Number.isFinite(this.bwLo) ? Math.round(this.bwLo * 8) : -1,
    };
  }
}

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}
