// The sending part of a stream (RFC 9000 §3.1, §2.2): data the application wrote, sent once, retransmitted
// from lost ranges, released when acknowledged; FIN; RESET_STREAM. Also used for CRYPTO data per packet
// number space (the same offset semantics without flow control or FIN).

import { RangeSet } from '../range-set.js';

const EMPTY = new Uint8Array(0);

export type SendState = 'ready' | 'send' | 'data-sent' | 'data-recvd' | 'reset-sent' | 'reset-recvd';

export class SendStream {
  state: SendState = 'ready';
  /**
   * Bytes [base, writeOffset) as a queue of chunks (copies of what the application wrote): chunks[i] starts at
   * stream offset chunkStart[i]. Acknowledged chunks are dropped from the front; frames take views, not copies.
   */
  private chunks: Uint8Array[] = [];
  private chunkStart: number[] = [];
  private first = 0;
  private base = 0;
  writeOffset = 0;
  /** Highest offset sent so far (new data continues from here). */
  sentOffset = 0;
  private readonly acked = new RangeSet();
  private readonly lost = new RangeSet();
  finWritten = false;
  private finSent = false;
  private finAcked = false;
  private finLost = false;
  /** The peer's MAX_STREAM_DATA (Infinity for CRYPTO). */
  maxData: number;
  /** We sent STREAM_DATA_BLOCKED at this limit (avoid repeating it). */
  blockedSentAt = -1;
  /** RESET_STREAM to send / sent. */
  resetCode: number | bigint | undefined;
  resetPending = false;
  /** The peer's STOP_SENDING error code, if it sent one. */
  stopSendingCode: number | bigint | undefined;

  constructor(
    readonly id: number,
    maxData = Number.POSITIVE_INFINITY,
    /** How much unacknowledged data we accept from the application (write backpressure). */
    readonly bufferLimit = 1 << 20,
  ) {
    this.maxData = maxData;
  }

  /** Bytes the application may still write before write() accepts less. */
  get writable(): number {
    if (this.finWritten || this.resetCode !== undefined) return 0;
    return Math.max(0, this.bufferLimit - (this.writeOffset - this.base));
  }

  /** Appends application data; returns how many bytes were accepted. */
  write(data: Uint8Array, fin = false): number {
    if (this.finWritten || this.resetCode !== undefined) throw new Error(`stream ${this.id} is closed for writing`);
    const n = Math.min(data.length, this.writable);
    if (n > 0) {
      this.chunks.push(data.slice(0, n));
      this.chunkStart.push(this.writeOffset);
    }
    this.writeOffset += n;
    if (this.state === 'ready') this.state = 'send';
    if (fin && n === data.length) this.finWritten = true;
    return n;
  }

  finish(): void {
    this.finWritten = true;
    if (this.state === 'ready') this.state = 'send';
  }

  /** Whether there is something to send (lost data first, then new data within `maxData`, or a lone FIN). */
  hasData(): boolean {
    if (this.resetCode !== undefined) return false;
    if (!this.lost.isEmpty || this.finLost) return true;
    if (this.sentOffset < Math.min(this.writeOffset, this.maxData)) return true;
    return this.finWritten && !this.finSent && this.sentOffset === this.writeOffset;
  }

  /** Retransmissions are sent before new data. */
  hasLostData(): boolean {
    return this.resetCode === undefined && (!this.lost.isEmpty || this.finLost);
  }

  /** Flow-control blocked: data written beyond the peer's limit. */
  get isBlocked(): boolean {
    return this.sentOffset >= this.maxData && this.writeOffset > this.maxData;
  }

  /**
   * The next chunk to send: up to `maxLen` bytes, new data limited to `connCredit` bytes. Returns null when
   * nothing fits. `isNew` bytes count against connection flow control.
   */
  nextChunk(maxLen: number, connCredit: number): { offset: number; data: Uint8Array; fin: boolean; isNew: boolean } | null {
    if (this.resetCode !== undefined) return null;
    const lostRange = this.lost.first();
    if (lostRange !== undefined) {
      const [start, end] = lostRange;
      const stop = Math.min(end, start + maxLen);
      this.lost.remove(start, stop);
      const fin = this.finLost && stop === this.writeOffset && this.finWritten;
      if (fin) this.finLost = false;
      return { offset: start, data: this.slice(start, stop), fin, isNew: false };
    }
    if (this.finLost && this.writeOffset === this.sentOffset) {
      this.finLost = false;
      return { offset: this.writeOffset, data: new Uint8Array(0), fin: true, isNew: false };
    }
    const limit = Math.min(this.writeOffset, this.maxData, this.sentOffset + connCredit, this.sentOffset + maxLen);
    if (limit <= this.sentOffset && !(this.finWritten && !this.finSent && this.sentOffset === this.writeOffset)) return null;
    const start = this.sentOffset;
    this.sentOffset = Math.max(limit, start);
    const fin = this.finWritten && this.sentOffset === this.writeOffset;
    if (fin) {
      this.finSent = true;
      if (this.state === 'send') this.state = 'data-sent';
    }
    return { offset: start, data: this.slice(start, this.sentOffset), fin, isNew: true };
  }

  /** Stream bytes [start, end): a view when they lie in one chunk (the usual case), else a copy. */
  private slice(start: number, end: number): Uint8Array {
    if (end <= start) return EMPTY;
    let i = this.first;
    while (i + 1 < this.chunks.length && this.chunkStart[i + 1]! <= start) i++;
    const c = this.chunks[i]!;
    const at = start - this.chunkStart[i]!;
    if (at + (end - start) <= c.length) return c.subarray(at, at + end - start);
    const out = new Uint8Array(end - start);
    let filled = 0;
    for (let j = i; filled < out.length; j++) {
      const cj = this.chunks[j]!;
      const from = j === i ? at : 0;
      const take = Math.min(cj.length - from, out.length - filled);
      out.set(cj.subarray(from, from + take), filled);
      filled += take;
    }
    return out;
  }

  /** Drops chunks wholly below `offset` (acknowledged). */
  private release(offset: number): void {
    while (this.first < this.chunks.length && this.chunkStart[this.first]! + this.chunks[this.first]!.length <= offset) this.first++;
    if (this.first > 64 && this.first * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.chunkStart = this.chunkStart.slice(this.first);
      this.first = 0;
    }
  }

  onAcked(offset: number, length: number, fin: boolean): void {
    this.acked.add(offset, offset + length);
    // A range declared lost may arrive after all (a late ACK of the first copy): no need to resend it.
    this.lost.remove(offset, offset + length);
    if (fin) {
      this.finAcked = true;
      this.finLost = false;
    }
    // Release the acknowledged prefix.
    const ackedEnd = this.acked.contiguousEnd(this.base);
    if (ackedEnd > this.base) {
      this.base = ackedEnd;
      this.acked.remove(0, ackedEnd);
      this.release(ackedEnd);
    }
    if (this.finAcked && this.base === this.writeOffset && this.state === 'data-sent') this.state = 'data-recvd';
  }

  onLost(offset: number, length: number, fin: boolean): void {
    if (this.resetCode !== undefined) return;
    // Only what is not yet acknowledged needs resending.
    const start = Math.max(offset, this.base);
    if (start < offset + length) {
      this.lost.add(start, offset + length);
      for (let i = 0; i < this.acked.r.length; i += 2) this.lost.remove(this.acked.r[i]!, this.acked.r[i + 1]!);
    }
    if (fin && !this.finAcked) this.finLost = true;
  }

  /** All data and the FIN acknowledged. */
  get isDone(): boolean {
    return this.state === 'data-recvd' || this.state === 'reset-recvd';
  }

  /** RFC 9000 §3.1: abandon sending; RESET_STREAM carries the final size (what was sent). */
  reset(code: number | bigint): void {
    if (this.resetCode !== undefined || this.state === 'data-recvd') return;
    this.resetCode = code;
    this.resetPending = true;
    this.state = 'reset-sent';
  }

  get finalSize(): number {
    return this.sentOffset;
  }

  /** Bytes written but not yet acknowledged. */
  get buffered(): number {
    return this.writeOffset - this.base;
  }
}
