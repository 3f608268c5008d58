// TLS presentation-language encoding helpers (RFC 8446 §3): a growable builder with length-prefixed vectors,
// and a reader whose truncation error is the decode_error alert.

import { BufferReader, cryptoError } from '@gquic/wire';
import { AlertDescription, alert } from './alerts.js';

export const DECODE_ERROR = cryptoError(AlertDescription.decode_error);

export function tlsReader(buf: Uint8Array, start = 0, end = buf.length): BufferReader {
  return new BufferReader(buf, start, end, DECODE_ERROR);
}

/** A growable byte builder; `vector(n, fn)` writes an n-byte length prefix around what `fn` writes. */
export class Builder {
  private buf = new Uint8Array(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n));
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v;
    return this;
  }
  u24(v: number): this {
    this.room(3);
    this.buf[this.length++] = v >>> 16;
    this.buf[this.length++] = v >>> 8;
    this.buf[this.length++] = v;
    return this;
  }
  u32(v: number): this {
    this.u16(v >>> 16);
    return this.u16(v & 0xffff);
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** A vector with a `lengthBytes`-byte length prefix (1, 2 or 3). */
  vector(lengthBytes: 1 | 2 | 3, fn: (b: this) => void): this {
    const at = this.length;
    this.room(lengthBytes);
    this.length += lengthBytes;
    fn(this);
    const n = this.length - at - lengthBytes;
    const max = lengthBytes === 1 ? 0xff : lengthBytes === 2 ? 0xffff : 0xffffff;
    if (n > max) throw new RangeError(`TLS vector of ${n} bytes exceeds its ${lengthBytes}-byte length`);
    for (let i = lengthBytes - 1, v = n; i >= 0; i--, v >>>= 8) this.buf[at + i] = v & 0xff;
    return this;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Reads a vector with an n-byte length prefix and returns a reader over its content. */
export function readVector(r: BufferReader, lengthBytes: 1 | 2 | 3, min = 0): BufferReader {
  const n = r.uint(lengthBytes);
  if (n < min) throw alert('decode_error', 'vector shorter than its minimum');
  const start = r.pos;
  r.skip(n);
  return tlsReader(r.buf, start, start + n);
}

export function readOpaque(r: BufferReader, lengthBytes: 1 | 2 | 3, min = 0): Uint8Array {
  const v = readVector(r, lengthBytes, min);
  return v.buf.slice(v.pos, v.end);
}
