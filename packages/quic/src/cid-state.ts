// Connection IDs (RFC 9000 §5.1): the ones we issue (NEW_CONNECTION_ID, up to the peer's
// active_connection_id_limit) and the ones the peer issued to us (bounded by ours, retire_prior_to honoured).

import { QuicError, TransportErrorCode } from '@gquic/wire';

export interface IssuedCid {
  seq: number;
  cid: Uint8Array;
  resetToken: Uint8Array;
  retired: boolean;
}

export const cidKey = (cid: Uint8Array): string => Buffer.from(cid.buffer, cid.byteOffset, cid.byteLength).toString('hex');

/** Our connection IDs. */
export class LocalCids {
  readonly issued: IssuedCid[] = [];
  private nextSeq = 0;
  /** Sequence numbers of NEW_CONNECTION_ID frames to (re)send. */
  readonly pending: number[] = [];
  /** Bumped whenever the set of usable CIDs changes (the endpoint re-reads its routing table then). */
  generation = 0;

  constructor(
    first: Uint8Array,
    private readonly make: () => { cid: Uint8Array; resetToken: Uint8Array },
  ) {
    this.issued.push({ seq: this.nextSeq++, cid: first, resetToken: new Uint8Array(16), retired: false });
  }

  get active(): IssuedCid[] {
    return this.issued.filter((c) => !c.retired);
  }

  /** Issues new CIDs until `limit` are active (the peer's active_connection_id_limit, capped by us). */
  fill(limit: number): void {
    while (this.active.length < limit) {
      const { cid, resetToken } = this.make();
      const c = { seq: this.nextSeq++, cid, resetToken, retired: false };
      this.issued.push(c);
      this.pending.push(c.seq);
      this.generation++;
    }
  }

  /** Issues the next CID without a NEW_CONNECTION_ID frame (the preferred_address CID, RFC 9000 §5.1.1). */
  issueUnannounced(): IssuedCid {
    const { cid, resetToken } = this.make();
    const c = { seq: this.nextSeq++, cid, resetToken, retired: false };
    this.issued.push(c);
    this.generation++;
    return c;
  }

  /** RETIRE_CONNECTION_ID from the peer (§19.16). `packetDcid` is the DCID of the packet that carried it. */
  retire(seq: number, packetDcid: Uint8Array, frameType: number): void {
    if (seq >= this.nextSeq) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `retiring unissued connection ID ${seq}`, frameType);
    const c = this.issued.find((x) => x.seq === seq);
    if (c === undefined || c.retired) return;
    if (cidKey(c.cid) === cidKey(packetDcid)) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'retiring the connection ID the packet was sent to', frameType);
    c.retired = true;
    this.generation++;
  }

  bySeq(seq: number): IssuedCid | undefined {
    return this.issued.find((x) => x.seq === seq);
  }
}

export interface PeerCid {
  seq: number;
  cid: Uint8Array;
  resetToken: Uint8Array | undefined;
}

/** Connection IDs the peer gave us. */
export class PeerCids {
  /** Active, by sequence number; `current` is the one we send to. */
  readonly active: PeerCid[] = [];
  current: PeerCid;
  private retirePriorTo = 0;
  /** RETIRE_CONNECTION_ID frames to send. */
  readonly pendingRetire: number[] = [];

  constructor(
    initial: Uint8Array,
    /** Our active_connection_id_limit. */
    readonly limit: number,
  ) {
    this.current = { seq: 0, cid: initial, resetToken: undefined };
    this.active.push(this.current);
  }

  /** The server's SCID from its first packet replaces the client's random initial DCID (§7.2). */
  replaceInitial(cid: Uint8Array): void {
    this.current.cid = cid;
  }

  /** NEW_CONNECTION_ID (§19.15). */
  onNew(seq: number, retirePriorTo: number, cid: Uint8Array, resetToken: Uint8Array, frameType: number): void {
    if (this.current.cid.length === 0) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_CONNECTION_ID while using a zero-length connection ID', frameType);
    const same = this.active.find((c) => c.seq === seq);
    if (same !== undefined) {
      if (cidKey(same.cid) !== cidKey(cid)) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `connection ID ${seq} reissued differently`, frameType);
      return;
    }
    if (seq < this.retirePriorTo) {
      this.pendingRetire.push(seq); // already retired by an earlier retire_prior_to (§5.1.2)
      return;
    }
    this.active.push({ seq, cid, resetToken });
    if (retirePriorTo > this.retirePriorTo) {
      this.retirePriorTo = retirePriorTo;
      for (let i = this.active.length - 1; i >= 0; i--) {
        const c = this.active[i]!;
        if (c.seq < retirePriorTo) {
          this.active.splice(i, 1);
          this.pendingRetire.push(c.seq);
        }
      }
      if (this.current.seq < retirePriorTo) this.current = this.active.reduce((a, b) => (a.seq < b.seq ? a : b));
    }
    if (this.active.length > this.limit) throw new QuicError(TransportErrorCode.CONNECTION_ID_LIMIT_ERROR, `more than ${this.limit} active connection IDs`, frameType);
  }
}
