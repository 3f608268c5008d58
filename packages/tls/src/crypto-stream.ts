// CRYPTO frame data for one encryption level (RFC 9000 §19.6, §7.5): out-of-order reassembly into whole
// handshake messages, with a bound on what the peer can make us buffer.

import { QuicError, TransportErrorCode } from '@gquic/wire';

/** RFC 9000 §7.5 asks for at least 4096 bytes; certificate chains need more. */
export const DEFAULT_MAX_CRYPTO_BUFFER = 64 * 1024;

export interface HandshakeMessage {
  type: number;
  body: Uint8Array;
  /** The whole message with its header, for the transcript. */
  raw: Uint8Array;
}

export class CryptoReceiveBuffer {
  /** Contiguous bytes received and not yet consumed as messages. */
  private pending = new Uint8Array(0);
  /** Offset of the first byte not yet contiguous. */
  private contiguousEnd = 0;
  /** Out-of-order segments beyond contiguousEnd, sorted by offset, non-overlapping. */
  private segments: Array<{ offset: number; data: Uint8Array }> = [];
  private segmentBytes = 0;

  constructor(readonly maxBuffered = DEFAULT_MAX_CRYPTO_BUFFER) {}

  /** Adds CRYPTO data. Throws CRYPTO_BUFFER_EXCEEDED when more would be buffered than allowed. */
  insert(offset: number, data: Uint8Array): void {
    let start = offset;
    let bytes = data;
    if (start + bytes.length <= this.contiguousEnd) return; // duplicate
    if (start < this.contiguousEnd) {
      bytes = bytes.subarray(this.contiguousEnd - start);
      start = this.contiguousEnd;
    }
    if (start + bytes.length - this.contiguousEnd + this.pending.length > this.maxBuffered) {
      throw new QuicError(TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, `more than ${this.maxBuffered} bytes of CRYPTO data buffered`);
    }
    if (start === this.contiguousEnd) {
      this.append(bytes);
      this.drainSegments();
    } else {
      this.addSegment(start, bytes.slice());
    }
  }

  private append(b: Uint8Array): void {
    const next = new Uint8Array(this.pending.length + b.length);
    next.set(this.pending);
    next.set(b, this.pending.length);
    this.pending = next;
    this.contiguousEnd += b.length;
  }

  private addSegment(offset: number, data: Uint8Array): void {
    // Keep only bytes not covered by existing segments (simple interval subtraction).
    const pieces: Array<{ offset: number; data: Uint8Array }> = [{ offset, data }];
    for (const s of this.segments) {
      for (let i = 0; i < pieces.length; i++) {
        const p = pieces[i]!;
        const pEnd = p.offset + p.data.length;
        const sEnd = s.offset + s.data.length;
        if (pEnd <= s.offset || p.offset >= sEnd) continue;
        const keep: Array<{ offset: number; data: Uint8Array }> = [];
        if (p.offset < s.offset) keep.push({ offset: p.offset, data: p.data.subarray(0, s.offset - p.offset) });
        if (pEnd > sEnd) keep.push({ offset: sEnd, data: p.data.subarray(sEnd - p.offset) });
        pieces.splice(i, 1, ...keep);
        i += keep.length - 1;
      }
    }
    for (const p of pieces) {
      if (p.data.length === 0) continue;
      this.segments.push(p);
      this.segmentBytes += p.data.length;
    }
    this.segments.sort((a, b) => a.offset - b.offset);
  }

  private drainSegments(): void {
    while (this.segments.length > 0) {
      const s = this.segments[0]!;
      if (s.offset > this.contiguousEnd) break;
      this.segments.shift();
      this.segmentBytes -= s.data.length;
      const skip = this.contiguousEnd - s.offset;
      if (skip < s.data.length) this.append(s.data.subarray(skip));
    }
  }

  /** Bytes held (contiguous not consumed + out of order). */
  get buffered(): number {
    return this.pending.length + this.segmentBytes;
  }

  /** The next complete handshake message, if one has arrived. */
  nextMessage(): HandshakeMessage | undefined {
    const p = this.pending;
    if (p.length < 4) return undefined;
    const len = (p[1]! << 16) | (p[2]! << 8) | p[3]!;
    if (4 + len > this.maxBuffered) {
      throw new QuicError(TransportErrorCode.CRYPTO_BUFFER_EXCEEDED, `handshake message of ${len} bytes exceeds the ${this.maxBuffered}-byte limit`);
    }
    if (p.length < 4 + len) return undefined;
    const raw = p.slice(0, 4 + len);
    this.pending = p.subarray(4 + len);
    return { type: raw[0]!, body: raw.subarray(4), raw };
  }

  /** True when bytes of an unfinished message remain (e.g. at a key change, RFC 8446 §5.1). */
  get hasPartialData(): boolean {
    return this.pending.length > 0 || this.segments.length > 0;
  }
}
