// The receiving part of a stream (RFC 9000 §3.2, §2.2, §4.5): out-of-order reassembly bounded by the flow
// control window we advertised, final size checks, reading, RESET_STREAM, and when to raise MAX_STREAM_DATA
// (with the window doubling when the application reads faster than one window per round trip).

import { QuicError, TransportErrorCode } from '@gquic/wire';

export type RecvState = 'recv' | 'size-known' | 'data-recvd' | 'data-read' | 'reset-recvd' | 'reset-read';

export class RecvStream {
  state: RecvState = 'recv';
  /** Contiguous data not yet read. */
  private readable: Uint8Array[] = [];
  private readableBytes = 0;
  /** Out-of-order segments beyond the contiguous end, ascending and non-overlapping. */
  private segments: Array<{ offset: number; data: Uint8Array }> = [];
  /** Offset up to which data is contiguous (received). */
  private contiguousEnd = 0;
  /** Offset the application has read up to. */
  readOffset = 0;
  /** Highest offset received (flow control accounting, §4.5). */
  highestOffset = 0;
  finalSize = -1;
  /** Our advertised limit (MAX_STREAM_DATA). */
  maxData: number;
  window: number;
  /** MAX_STREAM_DATA should be sent. */
  maxDataPending = false;
  private lastWindowUpdateAt = 0;
  resetCode: number | bigint | undefined;
  /** STOP_SENDING to send (the application no longer wants the data). */
  stopSendingCode: number | bigint | undefined;
  stopSendingPending = false;

  constructor(
    readonly id: number,
    initialWindow: number,
    readonly maxWindow: number,
  ) {
    this.maxData = initialWindow;
    this.window = initialWindow;
  }

  /**
   * A STREAM frame. Returns how far `highestOffset` advanced (new bytes for connection flow control). Throws
   * FLOW_CONTROL_ERROR beyond our limit and FINAL_SIZE_ERROR on inconsistent final sizes (§4.5).
   */
  onData(offset: number, data: Uint8Array, fin: boolean): number {
    const end = offset + data.length;
    if (end > this.maxData) throw new QuicError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id}: data to ${end} beyond the limit ${this.maxData}`);
    if (this.finalSize >= 0 && (end > this.finalSize || (fin && end !== this.finalSize))) {
      throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: data to ${end} against final size ${this.finalSize}`);
    }
    if (fin) {
      if (end < this.highestOffset) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: final size ${end} below data already received`);
      this.finalSize = end;
      if (this.state === 'recv') this.state = 'size-known';
    }
    const grew = Math.max(0, end - this.highestOffset);
    this.highestOffset = Math.max(this.highestOffset, end);
    if (this.resetCode !== undefined || this.stopSendingCode !== undefined) return grew; // discarded
    this.insert(offset, data);
    if (this.finalSize >= 0 && this.contiguousEnd === this.finalSize && this.state === 'size-known') this.state = 'data-recvd';
    return grew;
  }

  private insert(offset: number, data: Uint8Array): void {
    let start = offset;
    let bytes = data;
    if (start + bytes.length <= this.contiguousEnd) return;
    if (start < this.contiguousEnd) {
      bytes = bytes.subarray(this.contiguousEnd - start);
      start = this.contiguousEnd;
    }
    if (start === this.contiguousEnd) {
      this.pushReadable(bytes.slice());
      // Drain segments that are now contiguous.
      while (this.segments.length > 0 && this.segments[0]!.offset <= this.contiguousEnd) {
        const s = this.segments.shift()!;
        const skip = this.contiguousEnd - s.offset;
        if (skip < s.data.length) this.pushReadable(s.data.subarray(skip));
      }
      return;
    }
    // Out of order: store only bytes not already held.
    let pieces = [{ offset: start, data: bytes }];
    for (const s of this.segments) {
      const next: typeof pieces = [];
      for (const p of pieces) {
        const pEnd = p.offset + p.data.length;
        const sEnd = s.offset + s.data.length;
        if (pEnd <= s.offset || p.offset >= sEnd) {
          next.push(p);
          continue;
        }
        if (p.offset < s.offset) next.push({ offset: p.offset, data: p.data.subarray(0, s.offset - p.offset) });
        if (pEnd > sEnd) next.push({ offset: sEnd, data: p.data.subarray(sEnd - p.offset) });
      }
      pieces = next;
    }
    for (const p of pieces) if (p.data.length > 0) this.segments.push({ offset: p.offset, data: p.data.slice() });
    this.segments.sort((a, b) => a.offset - b.offset);
  }

  private pushReadable(b: Uint8Array): void {
    this.readable.push(b);
    this.readableBytes += b.length;
    this.contiguousEnd += b.length;
  }

  /** Bytes ready to read. */
  get available(): number {
    return this.readableBytes;
  }

  /** Whether read() would return data or the end of the stream. */
  get isReadable(): boolean {
    return this.readableBytes > 0 || this.state === 'data-recvd' || this.state === 'reset-recvd';
  }

  /**
   * Nothing more for the application: all data read and FIN seen, a reset read — or we asked the peer to stop
   * and its final size is known (FIN or RESET_STREAM), so the rest would only be discarded (§3.2, §3.5).
   */
  get isFinished(): boolean {
    if (this.state === 'data-read' || this.state === 'reset-read') return true;
    return this.stopSendingCode !== undefined && this.finalSize >= 0;
  }

  /**
   * Reads up to `max` bytes. Returns null when nothing is available yet; `fin` once everything was read.
   * `now` drives window auto-tuning with `rttUs`.
   */
  read(max: number, now: number, rttUs: number): { data: Uint8Array; fin: boolean } | null {
    if (this.resetCode !== undefined) return null;
    if (this.readableBytes === 0) {
      if (this.state === 'data-recvd') {
        this.state = 'data-read';
        return { data: new Uint8Array(0), fin: true };
      }
      return null;
    }
    let out: Uint8Array;
    const first = this.readable[0]!;
    if (first.length <= max) {
      out = first;
      this.readable.shift();
    } else {
      out = first.subarray(0, max);
      this.readable[0] = first.subarray(max);
    }
    this.readableBytes -= out.length;
    this.readOffset += out.length;
    const fin = this.readableBytes === 0 && this.state === 'data-recvd';
    if (fin) this.state = 'data-read';
    this.maybeUpdateWindow(now, rttUs);
    return { data: out, fin };
  }

  /** §4.2: raise the limit once half the window is consumed; double the window when that happens within 2 RTTs. */
  private maybeUpdateWindow(now: number, rttUs: number): void {
    if (this.finalSize >= 0) return;
    if (this.maxData - this.readOffset > this.window / 2) return;
    if (now - this.lastWindowUpdateAt < 2 * rttUs && this.window < this.maxWindow) this.window = Math.min(this.window * 2, this.maxWindow);
    this.lastWindowUpdateAt = now;
    this.maxData = this.readOffset + this.window;
    this.maxDataPending = true;
  }

  /** RESET_STREAM from the peer. Returns the flow-control growth (final size beyond what was counted). */
  onReset(code: number | bigint, finalSize: number): number {
    if (this.finalSize >= 0 && finalSize !== this.finalSize) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: reset final size ${finalSize} differs from ${this.finalSize}`);
    if (finalSize < this.highestOffset) throw new QuicError(TransportErrorCode.FINAL_SIZE_ERROR, `stream ${this.id}: reset final size ${finalSize} below data received`);
    if (finalSize > this.maxData) throw new QuicError(TransportErrorCode.FLOW_CONTROL_ERROR, `stream ${this.id}: reset final size beyond the limit`);
    const grew = finalSize - this.highestOffset;
    this.highestOffset = finalSize;
    this.finalSize = finalSize;
    if (this.state === 'data-recvd' || this.state === 'data-read') return grew;
    this.resetCode = code;
    this.state = 'reset-recvd';
    this.readable = [];
    this.readableBytes = 0;
    this.segments = [];
    this.maxDataPending = false;
    return grew;
  }

  /** The application acknowledged the reset (after it was reported). */
  resetRead(): void {
    if (this.state === 'reset-recvd') this.state = 'reset-read';
  }

  /** The application stops reading: STOP_SENDING, and received data is discarded. Returns bytes discarded unread. */
  stopSending(code: number | bigint): number {
    if (this.state === 'data-recvd') {
      // Everything arrived already: no STOP_SENDING needed (§3.5), the unread rest is discarded.
      const discarded = this.readableBytes;
      this.readOffset += discarded;
      this.readable = [];
      this.readableBytes = 0;
      this.state = 'data-read';
      return discarded;
    }
    if (this.stopSendingCode !== undefined || this.state === 'data-read' || this.resetCode !== undefined) return 0;
    this.stopSendingCode = code;
    this.stopSendingPending = true;
    // Everything received but not read (in order or not) is dropped and counts as consumed.
    const discarded = this.highestOffset - this.readOffset;
    this.readOffset = this.highestOffset;
    this.readable = [];
    this.readableBytes = 0;
    this.segments = [];
    return discarded;
  }

  /** Bytes buffered (readable + out of order), bounded by the window. */
  get buffered(): number {
    let n = this.readableBytes;
    for (const s of this.segments) n += s.data.length;
    return n;
  }
}
