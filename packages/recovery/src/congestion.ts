// The congestion controller interface (RFC 9002 §7), in the shape quinn-proto uses: the connection reports
// sends, acknowledgements and losses; the controller answers with a window and a pacing rate. Bytes in
// flight are counted by loss detection, not here. Times are microseconds.

import type { RttEstimator } from './rtt.js';

export interface CongestionController {
  readonly name: string;
  /** Congestion window in bytes. */
  readonly window: number;
  /** Slow start threshold in bytes (Infinity while in the first slow start). */
  readonly ssthresh: number;
  /** A packet that counts in flight was sent. */
  onPacketSent(now: number, bytes: number, bytesInFlight: number): void;
  /** A packet in flight was acknowledged. `appLimited`: the sender was not using the whole window (§7.8). */
  onPacketAcked(now: number, sentTime: number, bytes: number, rtt: RttEstimator, appLimited: boolean): void;
  /** A packet in flight was declared lost (its bytes already removed from flight). */
  onPacketLost(now: number, sentTime: number, bytes: number): void;
  /** §7.3.2: one congestion event per round trip, for the newest lost packet's send time. */
  onCongestionEvent(now: number, sentTime: number): void;
  /** §7.6.2: persistent congestion collapses the window to the minimum. */
  onPersistentCongestion(now: number): void;
  /** The path's maximum datagram size changed (DPLPMTUD). */
  onMtuUpdate(maxDatagramSize: number): void;
  /** Bytes per second the pacer should spread sends at (§7.7); Infinity when not pacing. */
  pacingRate(rtt: RttEstimator): number;
  /** A packet of game telemetry went out (the gaming controller detects sessions from these). */
  onGamingPacket?(now: number): void;
  /** The controller's state for stats and qlog (congestion_state_updated / metrics_updated). */
  metrics(): { phase: string; [k: string]: number | string };
}

/** §7.2: the initial window. */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14_720, 2 * maxDatagramSize));
}

/** §7.2: the minimum window. */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}
