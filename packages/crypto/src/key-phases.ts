// RFC 9001 §6: 1-RTT key phases. Holds the current keys in both directions, the next read keys (derived ahead
// so that a packet with the other key phase bit can be tried without delay, §6.3), and the previous read keys
// until the transport discards them (about three PTOs after the update, §6.5). The transport decides when to
// update and when to discard; this class only keeps the keys straight. No clock inside: times are the
// caller's `now`.

import { PacketKeys } from './packet-protection.js';

export class OneRttKeys {
  /** The key phase bit of the current keys (0 for the first 1-RTT keys). */
  phase: 0 | 1 = 0;
  /** Key updates done so far (initiated or in response). */
  generation = 0;
  read: PacketKeys;
  write: PacketKeys;
  /** Read keys of the next phase, derived ahead (§6.3: avoids a timing side channel). */
  nextRead: PacketKeys;
  /** Read keys of the previous phase, for reordered packets; dropped at `previousDiscardAt`. */
  previousRead: PacketKeys | undefined;
  previousDiscardAt = Number.POSITIVE_INFINITY;

  constructor(read: PacketKeys, write: PacketKeys) {
    this.read = read;
    this.write = write;
    this.nextRead = read.next();
  }

  /**
   * The read keys to try for a packet whose key phase bit is `bit` (§6.3): the current keys when it matches;
   * otherwise the previous keys for a packet older than the update (`pnBelowUpdate`), else the next keys.
   */
  readKeysFor(bit: number, pnBelowUpdate: boolean): { keys: PacketKeys; which: 'current' | 'previous' | 'next' } {
    if (bit === this.phase) return { keys: this.read, which: 'current' };
    if (pnBelowUpdate && this.previousRead !== undefined) return { keys: this.previousRead, which: 'previous' };
    return { keys: this.nextRead, which: 'next' };
  }

  /**
   * Moves to the next key phase in both directions — when we initiate an update, or when a packet opened with
   * `nextRead` shows the peer did (§6.2). The previous read keys stay until `discardAt`.
   */
  update(discardAt: number): void {
    this.previousRead = this.read;
    this.previousDiscardAt = discardAt;
    this.read = this.nextRead;
    this.write = this.write.next();
    this.nextRead = this.read.next();
    this.phase = this.phase === 0 ? 1 : 0;
    this.generation++;
  }

  /** Drops the previous phase's read keys once their time has come (§6.5). Returns true if it did. */
  discardPrevious(now: number): boolean {
    if (this.previousRead === undefined || now < this.previousDiscardAt) return false;
    this.previousRead = undefined;
    this.previousDiscardAt = Number.POSITIVE_INFINITY;
    return true;
  }
}
