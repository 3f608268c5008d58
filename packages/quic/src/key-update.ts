// RFC 9001 §6: 1-RTT key updates for a connection — which keys to try for a received packet, when an update may
// be initiated (handshake confirmed, the previous update acknowledged), detecting a peer that updates twice
// without waiting (KEY_UPDATE_ERROR), and when the previous read keys may go (about three PTOs later).

import { OneRttKeys, type PacketKeys } from '@gquic/crypto';
import { QuicError, TransportErrorCode } from '@gquic/wire';

export class KeyUpdate {
  readonly keys: OneRttKeys;
  /** Smallest packet number received in the current phase (-1: none yet). */
  private firstPnReceived = -1;
  /** First packet number we sent in the current phase (-1: none yet). */
  private firstPnSent = -1;
  /** A packet we sent in the current phase was acknowledged: a new update may start (§6.1). */
  private currentPhaseAcked = false;
  /** We sent an ACK in the current phase after receiving in it: the peer may update again (§6.2). */
  private ackSentInPhase = true;
  /** Packets that failed authentication across all 1-RTT keys (§6.6 integrity limit). */
  failures = 0;

  constructor(read: PacketKeys, write: PacketKeys) {
    this.keys = new OneRttKeys(read, write);
  }

  get phase(): number {
    return this.keys.phase;
  }

  /** §6.3: the keys for a packet with key phase `bit` and packet number `pn`. */
  readKeysFor(bit: number, pn: number): { keys: PacketKeys; which: 'current' | 'previous' | 'next' } {
    const below = this.firstPnReceived < 0 || pn < this.firstPnReceived;
    return this.keys.readKeysFor(bit, below);
  }

  /**
   * A packet opened with `which` keys. 'next' means the peer updated: we follow (§6.2), unless it updated
   * twice before we acknowledged its previous update in the new phase (KEY_UPDATE_ERROR).
   * Returns true when the phase changed.
   */
  onDecrypted(which: 'current' | 'previous' | 'next', pn: number, discardAt: number): boolean {
    if (which === 'previous') return false;
    if (which === 'current') {
      if (this.firstPnReceived < 0 || pn < this.firstPnReceived) this.firstPnReceived = pn;
      return false;
    }
    if (!this.ackSentInPhase) throw new QuicError(TransportErrorCode.KEY_UPDATE_ERROR, 'the peer updated keys twice without waiting for an acknowledgement');
    this.move(discardAt);
    this.firstPnReceived = pn;
    return true;
  }

  /** Whether we may initiate an update now (§6.1: handshake confirmed, current phase acknowledged). */
  canInitiate(handshakeConfirmed: boolean): boolean {
    return handshakeConfirmed && this.currentPhaseAcked;
  }

  /** Starts an update (the caller checked canInitiate). */
  initiate(discardAt: number): void {
    this.move(discardAt);
  }

  private move(discardAt: number): void {
    this.keys.update(discardAt);
    this.firstPnReceived = -1;
    this.firstPnSent = -1;
    this.currentPhaseAcked = false;
    this.ackSentInPhase = false;
  }

  /** A 1-RTT packet went out with the current keys. */
  onPacketSent(pn: number, carriesAck: boolean): void {
    if (this.firstPnSent < 0) this.firstPnSent = pn;
    if (carriesAck && this.firstPnReceived >= 0) this.ackSentInPhase = true;
  }

  /** The peer acknowledged packets up to `largest` in the application space. */
  onAckReceived(largest: number): void {
    if (this.firstPnSent >= 0 && largest >= this.firstPnSent) this.currentPhaseAcked = true;
  }

  /** Packets sealed with the current write keys (for the confidentiality limit). */
  get sealedInPhase(): number {
    return this.keys.write.sealed;
  }
}
