// Reads HTTP/3 frames from a QUIC stream's ReadableStream (RFC 9114 §7.1): varints and payloads are pulled
// only as needed, so backpressure reaches QUIC flow control; DATA payloads stream through without buffering.

import { H3Error, H3ErrorCode } from './errors.js';

export interface FrameHeader {
  type: number;
  length: number;
}

export class StreamReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private chunk: Uint8Array = new Uint8Array(0);
  private off = 0;
  private ended = false;

  constructor(readable: ReadableStream<Uint8Array>) {
    this.reader = readable.getReader();
  }

  private get available(): number {
    return this.chunk.length - this.off;
  }

  /** Pulls the next chunk; false at the end of the stream. */
  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    for (;;) {
      const r = await this.reader.read();
      if (r.done) {
        this.ended = true;
        return false;
      }
      if (r.value.length === 0) continue;
      if (this.available === 0) {
        this.chunk = r.value;
        this.off = 0;
      } else {
        const b = new Uint8Array(this.available + r.value.length);
        b.set(this.chunk.subarray(this.off));
        b.set(r.value, this.available);
        this.chunk = b;
        this.off = 0;
      }
      return true;
    }
  }

  /** True at the clean end of the stream (nothing buffered, FIN seen). */
  async atEnd(): Promise<boolean> {
    while (this.available === 0) if (!(await this.pull())) return true;
    return false;
  }

  /**
   * A QUIC varint. At a clean end before its first byte: null. Cut short: H3_FRAME_ERROR (§7.1). Values above
   * 2^53 - 1 come back inexact (see frames.ts for which fields may do that).
   */
  async varint(): Promise<number | null> {
    if (await this.atEnd()) return null;
    const len = 1 << (this.chunk[this.off]! >> 6);
    while (this.available < len) if (!(await this.pull())) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'stream ended inside a varint');
    const b = this.chunk;
    let v = b[this.off]! & 0x3f;
    for (let i = 1; i < len; i++) v = v * 256 + b[this.off + i]!;
    this.off += len;
    return v;
  }

  /** A frame header, or null at a clean end of stream between frames. */
  async frameHeader(): Promise<FrameHeader | null> {
    const type = await this.varint();
    if (type === null) return null;
    const length = await this.varint();
    if (length === null) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'stream ended inside a frame header');
    if (length > Number.MAX_SAFE_INTEGER) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'frame length beyond 2^53 - 1');
    return { type, length };
  }

  /** Exactly `n` bytes (a payload we buffer: it is bounded by the caller). */
  async bytes(n: number): Promise<Uint8Array> {
    while (this.available < n) if (!(await this.pull())) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'stream ended inside a frame');
    const out = this.chunk.slice(this.off, this.off + n);
    this.off += n;
    return out;
  }

  /** `n` bytes as they arrive (DATA payloads), without gathering them. */
  async *chunks(n: number): AsyncGenerator<Uint8Array> {
    while (n > 0) {
      if (this.available === 0 && !(await this.pull())) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'stream ended inside a DATA frame');
      const take = Math.min(n, this.available);
      const out = this.chunk.subarray(this.off, this.off + take);
      this.off += take;
      n -= take;
      yield out;
    }
  }

  /** Between 1 and `n` bytes, as many as are at hand (n > 0); H3_FRAME_ERROR at the end of the stream. */
  async upTo(n: number): Promise<Uint8Array> {
    if (this.available === 0 && !(await this.pull())) throw new H3Error(H3ErrorCode.FRAME_ERROR, 'stream ended inside a DATA frame');
    const take = Math.min(n, this.available);
    const out = this.chunk.subarray(this.off, this.off + take);
    this.off += take;
    return out;
  }

  /** Discards `n` bytes (unknown and reserved frames, §9). */
  async skip(n: number): Promise<void> {
    for await (const _ of this.chunks(n)) void _;
  }

  /** Stops reading: STOP_SENDING with `code` (§4.1.1 and others). */
  async cancel(code: number): Promise<void> {
    await this.reader.cancel({ code }).catch(() => undefined);
  }

  release(): void {
    this.reader.releaseLock();
  }
}
