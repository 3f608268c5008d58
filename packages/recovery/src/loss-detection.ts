// RFC 9002 §6 and Appendix A: acknowledgement processing, packet- and time-threshold loss detection, the probe
// timeout, and persistent congestion, across the three packet number spaces. Sans-IO: the connection reports
// sends and ACKs with `now` (microseconds), asks for the next deadline, and calls onTimeout.

import { QuicError, TransportErrorCode } from '@gquic/wire';
import type { CongestionController } from './congestion.js';
import { K_GRANULARITY_US, RttEstimator } from './rtt.js';
import { SPACE_APPLICATION, SPACE_HANDSHAKE, SPACE_INITIAL, type PacketSpace, type SentPacket } from './sent-packet.js';

/** §6.1.1 */
export const K_PACKET_THRESHOLD = 3;
/** §6.1.2: 9/8 */
export const K_TIME_THRESHOLD = 9 / 8;
/** §7.6.1 */
export const K_PERSISTENT_CONGESTION_THRESHOLD = 3;

/**
 * Sent packets of one space in packet number order, with acknowledged or lost ones left as holes that the
 * head skips (and an occasional compaction): an ACK touches only the packets it names (binary search on
 * `pns`), and loss detection scans only up to the largest acknowledged — O(acked) per ACK rather than
 * O(in flight), which matters with tens of thousands of packets in flight.
 */
class SentRing<F> {
  pns: number[] = [];
  pkts: Array<SentPacket<F> | undefined> = [];
  head = 0;

  push(p: SentPacket<F>): void {
    this.pns.push(p.pn);
    this.pkts.push(p);
  }

  /** Index of the first entry with pn >= `pn`. */
  lowerBound(pn: number): number {
    let lo = this.head;
    let hi = this.pns.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.pns[mid]! < pn) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Drops the holes at the front; compacts when they dominate. */
  trim(): void {
    while (this.head < this.pkts.length && this.pkts[this.head] === undefined) this.head++;
    if (this.head > 1024 && this.head * 2 > this.pkts.length) {
      this.pns = this.pns.slice(this.head);
      this.pkts = this.pkts.slice(this.head);
      this.head = 0;
    }
  }

  live(): Array<SentPacket<F>> {
    const out: Array<SentPacket<F>> = [];
    for (let i = this.head; i < this.pkts.length; i++) {
      const p = this.pkts[i];
      if (p !== undefined) out.push(p);
    }
    return out;
  }

  clear(): void {
    this.pns = [];
    this.pkts = [];
    this.head = 0;
  }
}

class SpaceState<F> {
  sent = new SentRing<F>();
  largestAcked = -1;
  largestSent = -1;
  lossTime = Number.POSITIVE_INFINITY;
  timeOfLastAckEliciting = 0;
  ackElicitingInFlight = 0;
  discarded = false;
}

export interface AckOutcome<F> {
  acked: Array<SentPacket<F>>;
  lost: Array<SentPacket<F>>;
  /** The RTT estimate was updated from this ACK. */
  rttSampled: boolean;
}

export type TimeoutOutcome<F> = { kind: 'loss'; space: PacketSpace; lost: Array<SentPacket<F>> } | { kind: 'pto'; space: PacketSpace } | { kind: 'none' };

export class LossDetection<F = unknown> {
  rtt: RttEstimator;
  bytesInFlight = 0;
  ptoCount = 0;
  private readonly spaces = [new SpaceState<F>(), new SpaceState<F>(), new SpaceState<F>()];
  /** The peer's max_ack_delay (µs), applied to the application data space. */
  maxAckDelayUs = 25_000;
  handshakeConfirmed = false;
  /** Server: the client's address is validated; client: the server has validated ours (Handshake ACKed, §A.6). */
  peerCompletedAddressValidation = false;
  hasHandshakeKeys = false;
  /** Server blocked by the anti-amplification limit: no PTO is armed (§6.2.2.1). */
  amplificationBlocked = false;
  /** Totals for stats. */
  packetsLost = 0;
  bytesLost = 0;
  private firstRttSampleAt = Number.POSITIVE_INFINITY;
  /** When the anti-deadlock timer (nothing in flight) was armed; NaN when it is not. */
  private probeBase = Number.NaN;

  constructor(
    public cc: CongestionController,
    rtt?: RttEstimator,
  ) {
    this.rtt = rtt ?? new RttEstimator();
  }

  /**
   * RFC 9000 §9.4: the peer moved to a new path — congestion control and RTT estimation start over. Packets in
   * flight stay tracked (their acknowledgements still count).
   */
  resetPath(cc: CongestionController): void {
    this.cc = cc;
    this.rtt = new RttEstimator(this.rtt.initialRttUs);
    this.ptoCount = 0;
  }

  largestAcked(space: PacketSpace): number {
    return this.spaces[space]!.largestAcked;
  }

  ackElicitingInFlight(space: PacketSpace): number {
    return this.spaces[space]!.ackElicitingInFlight;
  }

  /** Packets still awaiting acknowledgement in `space` (e.g. to pick PTO probe data). */
  unacked(space: PacketSpace): ReadonlyArray<SentPacket<F>> {
    return this.spaces[space]!.sent.live();
  }

  /** §A.5 */
  onPacketSent(space: PacketSpace, p: SentPacket<F>): void {
    const s = this.spaces[space]!;
    s.sent.push(p);
    s.largestSent = p.pn;
    this.probeBase = Number.NaN;
    if (p.inFlight) {
      if (p.ackEliciting) {
        s.timeOfLastAckEliciting = p.timeSent;
        s.ackElicitingInFlight++;
      }
      this.bytesInFlight += p.size;
      this.cc.onPacketSent(p.timeSent, p.size, this.bytesInFlight);
    }
  }

  /**
   * §A.7: an ACK frame's ranges ([largest, smallest] pairs, descending) and decoded ack delay (µs). Throws
   * PROTOCOL_VIOLATION when it acknowledges a packet number we never sent (RFC 9000 §13.1).
   */
  onAckReceived(space: PacketSpace, ranges: readonly number[], ackDelayUs: number, now: number): AckOutcome<F> {
    const s = this.spaces[space]!;
    const largest = ranges[0]!;
    if (largest > s.largestSent) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `ACK of unsent packet ${largest}`);
    if (largest > s.largestAcked) s.largestAcked = largest;
    const acked: Array<SentPacket<F>> = [];
    const ring = s.sent;
    // Ranges are descending: visit them smallest first so `acked` comes out in ascending order.
    for (let ri = ranges.length - 2; ri >= 0; ri -= 2) {
      const hi = ranges[ri]!;
      for (let i = ring.lowerBound(ranges[ri + 1]!); i < ring.pns.length && ring.pns[i]! <= hi; i++) {
        const p = ring.pkts[i];
        if (p === undefined) continue;
        acked.push(p);
        ring.pkts[i] = undefined;
      }
    }
    const result: AckOutcome<F> = { acked, lost: [], rttSampled: false };
    if (acked.length === 0) return result;
    ring.trim();
    // §5.1: an RTT sample when the largest acknowledged is newly acknowledged and something ack-eliciting was.
    const newest = acked[acked.length - 1]!;
    if (newest.pn === largest && acked.some((p) => p.ackEliciting)) {
      const wasFirst = !this.rtt.hasSample;
      this.rtt.update(now - newest.timeSent, space === SPACE_APPLICATION ? ackDelayUs : 0, this.handshakeConfirmed, this.maxAckDelayUs, now);
      if (wasFirst) this.firstRttSampleAt = now;
      result.rttSampled = true;
    }
    for (const p of acked) {
      if (!p.inFlight) continue;
      this.removeFromFlight(s, p);
      this.cc.onPacketAcked(now, p.timeSent, p.size, this.rtt, p.appLimited);
    }
    result.lost = this.detectLostPackets(space, now);
    // §A.7: reset the PTO backoff, except for a client that has not yet heard the server validated it (§6.2.1).
    if (this.peerCompletedAddressValidation) this.ptoCount = 0;
    return result;
  }

  private removeFromFlight(s: SpaceState<F>, p: SentPacket<F>): void {
    this.bytesInFlight -= p.size;
    if (p.ackEliciting) s.ackElicitingInFlight--;
  }

  /** §A.10: packet and time thresholds. Also reports congestion to the controller. */
  private detectLostPackets(space: PacketSpace, now: number): Array<SentPacket<F>> {
    const s = this.spaces[space]!;
    s.lossTime = Number.POSITIVE_INFINITY;
    if (s.largestAcked < 0) return [];
    const lossDelay = Math.max(K_TIME_THRESHOLD * Math.max(this.rtt.latestRtt, this.rtt.smoothedRtt), K_GRANULARITY_US);
    const lost: Array<SentPacket<F>> = [];
    const ring = s.sent;
    for (let i = ring.head; i < ring.pns.length && ring.pns[i]! <= s.largestAcked; i++) {
      const p = ring.pkts[i];
      if (p === undefined) continue;
      // Compared as the timer computes it (timeSent + lossDelay), so a timer at that instant always fires a loss.
      if (p.timeSent + lossDelay <= now || s.largestAcked >= p.pn + K_PACKET_THRESHOLD) {
        lost.push(p);
        ring.pkts[i] = undefined;
      } else {
        s.lossTime = Math.min(s.lossTime, p.timeSent + lossDelay);
      }
    }
    if (lost.length > 0) {
      ring.trim();
      this.onPacketsLost(s, lost, now);
    }
    return lost;
  }

  private onPacketsLost(s: SpaceState<F>, lost: Array<SentPacket<F>>, now: number): void {
    let newestLostSent = Number.NEGATIVE_INFINITY;
    for (const p of lost) {
      if (!p.mtuProbe) this.packetsLost++;
      if (!p.inFlight) continue;
      this.removeFromFlight(s, p);
      // RFC 9000 §14.4 / RFC 8899 §3: a lost PMTU probe says nothing about congestion.
      if (p.mtuProbe) continue;
      this.bytesLost += p.size;
      this.cc.onPacketLost(now, p.timeSent, p.size);
      newestLostSent = Math.max(newestLostSent, p.timeSent);
    }
    if (newestLostSent > Number.NEGATIVE_INFINITY) this.cc.onCongestionEvent(now, newestLostSent);
    if (this.inPersistentCongestion(lost)) {
      this.rtt.resetMinRtt();
      this.cc.onPersistentCongestion(now);
    }
  }

  /**
   * §7.6.2: a run of consecutive lost ack-eliciting packets, all sent after the first RTT sample, spanning more
   * than the persistent congestion duration. Consecutive packet numbers mean nothing in between was acknowledged.
   */
  private inPersistentCongestion(lost: ReadonlyArray<SentPacket<F>>): boolean {
    if (!this.rtt.hasSample) return false;
    const duration = (this.rtt.smoothedRtt + Math.max(4 * this.rtt.rttVar, K_GRANULARITY_US) + this.maxAckDelayUs) * K_PERSISTENT_CONGESTION_THRESHOLD;
    let runStart: SentPacket<F> | undefined;
    let prevPn = -2;
    for (const p of lost) {
      if (p.mtuProbe) continue;
      if (p.timeSent <= this.firstRttSampleAt || !p.ackEliciting) {
        runStart = undefined;
        prevPn = p.pn;
        continue;
      }
      if (runStart === undefined || p.pn !== prevPn + 1) runStart = p;
      prevPn = p.pn;
      if (p.timeSent - runStart.timeSent > duration) return true;
    }
    return false;
  }

  private ptoBase(): number {
    return (this.rtt.smoothedRtt + Math.max(4 * this.rtt.rttVar, K_GRANULARITY_US)) * 2 ** this.ptoCount;
  }

  /** §A.8: the earliest PTO deadline and its space. */
  private ptoTimeAndSpace(now: number): { time: number; space: PacketSpace } {
    const duration = this.ptoBase();
    const inFlight = this.spaces.some((s) => s.ackElicitingInFlight > 0);
    if (!inFlight) {
      // Client anti-deadlock probe (§6.2.2.1), timed from when the timer was armed.
      if (Number.isNaN(this.probeBase)) this.probeBase = now;
      return { time: this.probeBase + duration, space: this.hasHandshakeKeys ? SPACE_HANDSHAKE : SPACE_INITIAL };
    }
    let time = Number.POSITIVE_INFINITY;
    let space: PacketSpace = SPACE_INITIAL;
    for (const sp of [SPACE_INITIAL, SPACE_HANDSHAKE, SPACE_APPLICATION] as const) {
      const s = this.spaces[sp]!;
      if (s.ackElicitingInFlight === 0) continue;
      let d = duration;
      if (sp === SPACE_APPLICATION) {
        // §6.2.1: no application data PTO before the handshake is confirmed.
        if (!this.handshakeConfirmed) return { time, space };
        d += this.maxAckDelayUs * 2 ** this.ptoCount;
      }
      const t = s.timeOfLastAckEliciting + d;
      if (t < time) {
        time = t;
        space = sp;
      }
    }
    return { time, space };
  }

  /** §A.8 SetLossDetectionTimer: the next deadline, or Infinity. */
  deadline(now: number): number {
    let lossTime = Number.POSITIVE_INFINITY;
    for (const s of this.spaces) lossTime = Math.min(lossTime, s.lossTime);
    if (lossTime < Number.POSITIVE_INFINITY) return lossTime;
    if (this.amplificationBlocked) return Number.POSITIVE_INFINITY;
    const inFlight = this.spaces.some((s) => s.ackElicitingInFlight > 0);
    if (!inFlight && this.peerCompletedAddressValidation) return Number.POSITIVE_INFINITY;
    return this.ptoTimeAndSpace(now).time;
  }

  /** §A.9: the timer fired. Either packets are declared lost, or the caller must send PTO probes in `space`. */
  onTimeout(now: number): TimeoutOutcome<F> {
    let earliest: PacketSpace | undefined;
    for (const sp of [SPACE_INITIAL, SPACE_HANDSHAKE, SPACE_APPLICATION] as const) {
      const s = this.spaces[sp]!;
      if (s.lossTime <= now && (earliest === undefined || s.lossTime < this.spaces[earliest]!.lossTime)) earliest = sp;
    }
    if (earliest !== undefined) return { kind: 'loss', space: earliest, lost: this.detectLostPackets(earliest, now) };
    const d = this.deadline(now);
    if (d > now) return { kind: 'none' };
    const { space } = this.ptoTimeAndSpace(now);
    this.ptoCount++;
    this.probeBase = Number.NaN;
    return { kind: 'pto', space };
  }

  /**
   * §6.4 / RFC 9001 §4.9: keys for a space are discarded — its packets leave flight without being lost (their
   * frames need no retransmission), and its timers stop.
   */
  discardSpace(space: PacketSpace): void {
    const s = this.spaces[space]!;
    for (const p of s.sent.live()) if (p.inFlight) this.removeFromFlight(s, p);
    s.sent.clear();
    s.lossTime = Number.POSITIVE_INFINITY;
    s.timeOfLastAckEliciting = 0;
    s.ackElicitingInFlight = 0;
    s.discarded = true;
    this.ptoCount = 0;
  }

  /**
   * RFC 9002 §6.3: after a Retry the client resets recovery for the Initial space. Returns the packets that were
   * in flight (their frames are to be sent again, with new packet numbers).
   */
  resetForRetry(space: PacketSpace): Array<SentPacket<F>> {
    const s = this.spaces[space]!;
    const out = s.sent.live();
    for (const p of out) if (p.inFlight) this.removeFromFlight(s, p);
    s.sent.clear();
    s.lossTime = Number.POSITIVE_INFINITY;
    s.timeOfLastAckEliciting = 0;
    s.ackElicitingInFlight = 0;
    this.ptoCount = 0;
    return out;
  }

  isDiscarded(space: PacketSpace): boolean {
    return this.spaces[space]!.discarded;
  }

  /** The next packet number's truncation reference: the largest acknowledged in `space`. */
  largestSent(space: PacketSpace): number {
    return this.spaces[space]!.largestSent;
  }
}
