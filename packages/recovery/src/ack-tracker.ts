// Received packet numbers for one packet number space, and when to acknowledge them (RFC 9000 §13.2).
// Ranges are kept as [largest, smallest] pairs in descending order, the layout ACK frames use, with a cap on
// how many are remembered: the oldest are forgotten (§13.2.4) and packets below them are treated as duplicates.

/** How many ACK ranges we remember and send at most. */
export const MAX_ACK_RANGES = 64;

export class AckTracker {
  /** [largest, smallest] pairs, descending, non-adjacent. */
  readonly ranges: number[] = [];
  /** Receive time of the largest packet number (for ACK Delay). */
  largestReceivedAt = 0;
  /** Ack-eliciting packets received since the last ACK we sent. */
  private unackedEliciting = 0;
  /** An ACK should be sent; `ackDeadline` says by when (Infinity: only with other frames). */
  ackPending = false;
  /**
   * Something arrived since our last ACK, ack-eliciting or not. Not a reason to send, but worth an ACK frame in a
   * packet that goes out anyway: it tells the peer about its non-ack-eliciting packets too, which lets it declare
   * earlier ones lost by packet threshold (RFC 9002 §6.1.1) instead of waiting for its PTO.
   */
  newSinceAck = false;
  ackDeadline = Number.POSITIVE_INFINITY;
  /** Packets below this were forgotten with their ranges: treated as duplicates. */
  private floor = 0;

  constructor(
    /** Initial and Handshake packets are acknowledged at once (§13.2.1). */
    readonly immediate: boolean,
    readonly maxRanges = MAX_ACK_RANGES,
  ) {}

  get largest(): number {
    return this.ranges.length > 0 ? this.ranges[0]! : -1;
  }

  /** True when `pn` was already received (or is too old to tell): the packet must be dropped (§12.3). */
  isDuplicate(pn: number): boolean {
    if (pn < this.floor) return true;
    const r = this.ranges;
    for (let i = 0; i < r.length; i += 2) {
      if (pn > r[i]!) return false;
      if (pn >= r[i + 1]!) return true;
    }
    return false;
  }

  /**
   * Records a packet that decrypted and was processed. `maxAckDelayUs` is ours (how long we may wait).
   * §13.2.1: ack-eliciting packets are acknowledged within max_ack_delay, at once when out of order, and at
   * least every second one.
   */
  onPacketReceived(pn: number, ackEliciting: boolean, now: number, maxAckDelayUs: number): void {
    const outOfOrder = this.ranges.length > 0 && pn !== this.largest + 1;
    this.insert(pn);
    if (pn === this.largest) this.largestReceivedAt = now;
    this.newSinceAck = true;
    if (!ackEliciting) return;
    this.ackPending = true;
    this.unackedEliciting++;
    if (this.immediate || outOfOrder || this.unackedEliciting >= 2) this.ackDeadline = now;
    else this.ackDeadline = Math.min(this.ackDeadline, now + maxAckDelayUs);
  }

  private insert(pn: number): void {
    const r = this.ranges;
    let i = 0;
    while (i < r.length && r[i + 1]! > pn + 1) i += 2;
    if (i === r.length) {
      r.push(pn, pn);
    } else if (pn > r[i]! + 1) {
      r.splice(i, 0, pn, pn);
    } else if (pn === r[i]! + 1) {
      r[i] = pn;
    } else if (pn === r[i + 1]! - 1) {
      r[i + 1] = pn;
      // Merge with the next (older) range when the gap closed.
      if (i + 2 < r.length && r[i + 2]! === pn - 1) {
        r[i + 1] = r[i + 3]!;
        r.splice(i + 2, 2);
      }
    }
    // else: inside the range already (duplicates are filtered before).
    if (r.length > 2 * this.maxRanges) {
      // Forget the oldest range; anything below what remains is now indistinguishable from a duplicate.
      r.length = 2 * this.maxRanges;
      this.floor = r[r.length - 1]!;
    }
  }

  /** The encoded ACK Delay field for an ACK sent at `now` (§19.3). */
  ackDelayField(now: number, ackDelayExponent: number): number {
    return Math.floor(Math.max(0, now - this.largestReceivedAt) / 2 ** ackDelayExponent);
  }

  /** An ACK carrying the current ranges was sent. */
  onAckSent(): void {
    this.ackPending = false;
    this.newSinceAck = false;
    this.unackedEliciting = 0;
    this.ackDeadline = Number.POSITIVE_INFINITY;
  }

  /**
   * §13.2.4: once the peer has acknowledged a packet carrying one of our ACK frames, the ranges that frame
   * covered need not be repeated. Drops ranges lying wholly below `smallestToKeep` (always keeping the newest).
   */
  forgetBelow(smallestToKeep: number): void {
    const r = this.ranges;
    let dropped = false;
    while (r.length > 2 && r[r.length - 2]! < smallestToKeep) {
      r.length -= 2;
      dropped = true;
    }
    if (dropped) this.floor = Math.max(this.floor, r[r.length - 1]!);
  }
}
