// QPACK primitives (RFC 9204 §4.1): prefixed integers (RFC 7541 §5.1) and string literals with an optional
// Huffman coding. Field values are octets; this library carries them as latin1 strings (one char per octet), the
// way the Fetch API's ByteString does, so every octet round-trips.

import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { QpackError } from './errors.js';

/** Thrown (one shared instance) when an instruction is cut short: wait for more stream data. */
export const TRUNCATED = new (class Truncated extends Error {
  constructor() {
    super('truncated');
  }
})();

/** The unparsed tail of a stream (an incomplete instruction) followed by new data. */
export function joinPending(pending: Uint8Array, data: Uint8Array): Uint8Array {
  if (pending.length === 0) return data;
  const buf = new Uint8Array(pending.length + data.length);
  buf.set(pending);
  buf.set(data, pending.length);
  return buf;
}

/** Integers above 2^53 - 1 cannot be represented exactly: QPACK fields never need them, so they are errors. */
const MAX_INT = Number.MAX_SAFE_INTEGER;

export class QpackReader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  /** The error code for malformed input read through this reader. */
  code = 0;

  reset(buf: Uint8Array, start: number, end: number, code: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.code = code;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  byte(): number {
    if (this.pos >= this.end) throw TRUNCATED;
    return this.buf[this.pos]!;
  }

  /** RFC 7541 §5.1: an N-bit prefix integer starting in the current byte (whose high bits the caller read). */
  int(prefix: number): number {
    const max = (1 << prefix) - 1;
    if (this.pos >= this.end) throw TRUNCATED;
    let v = this.buf[this.pos++]! & max;
    if (v < max) return v;
    let m = 1;
    for (;;) {
      if (this.pos >= this.end) throw TRUNCATED;
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * m;
      if (v > MAX_INT) throw new QpackError(this.code, 'integer too large');
      if ((b & 0x80) === 0) return v;
      m *= 128;
      if (m > 2 ** 56) throw new QpackError(this.code, 'integer too long');
    }
  }

  /**
   * A string literal whose H bit is bit `prefix` of the current byte and whose length is the `prefix`-bit integer
   * (RFC 9204 §4.1.2); at most `maxLength` octets once decoded.
   */
  string(prefix: number, maxLength: number): string {
    const huffman = (this.byte() & (1 << prefix)) !== 0;
    const len = this.int(prefix);
    if (len > this.end - this.pos) throw TRUNCATED;
    const start = this.pos;
    this.pos += len;
    if (!huffman) {
      if (len > maxLength) throw new QpackError(this.code, `string of ${len} octets exceeds the limit of ${maxLength}`);
      return latin1(this.buf, start, start + len);
    }
    // A Huffman code is at least 5 bits a symbol.
    const cap = Math.min(maxLength, Math.floor((len * 8) / 5));
    const out = scratch(cap);
    const n = huffmanDecode(this.buf, start, start + len, out, 0, this.code);
    return latin1(out, 0, n);
  }
}

let scratchBuf = new Uint8Array(4096);
function scratch(n: number): Uint8Array {
  if (scratchBuf.length < n) scratchBuf = new Uint8Array(Math.max(n, scratchBuf.length * 2));
  return scratchBuf.subarray(0, n);
}

const decoder = new TextDecoder('latin1');
function latin1(b: Uint8Array, start: number, end: number): string {
  if (end - start < 32) {
    let s = '';
    for (let i = start; i < end; i++) s += String.fromCharCode(b[i]!);
    return s;
  }
  return decoder.decode(b.subarray(start, end));
}

/** Octets of a latin1 string (chars above 0xff are not octets: a caller error). */
export function octets(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new TypeError(`field text must be octets (latin1); found U+${c.toString(16).padStart(4, '0')}`);
    out[i] = c;
  }
  return out;
}

/** A growable output buffer. */
export class QpackWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(size = 256) {
    this.buf = new Uint8Array(size);
  }

  reset(): this {
    this.pos = 0;
    return this;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
  }

  /** RFC 7541 §5.1: `v` in a `prefix`-bit integer whose first byte carries `flags` in its high bits. */
  int(prefix: number, flags: number, v: number): void {
    this.room(10);
    const max = (1 << prefix) - 1;
    if (v < max) {
      this.buf[this.pos++] = flags | v;
      return;
    }
    this.buf[this.pos++] = flags | max;
    v -= max;
    while (v >= 128) {
      this.buf[this.pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** A string literal: H bit at bit `prefix`, Huffman-coded when that is shorter (RFC 9204 §4.1.2). */
  string(prefix: number, flags: number, s: Uint8Array): void {
    const h = huffmanEncodedLength(s);
    if (h < s.length) {
      this.int(prefix, flags | (1 << prefix), h);
      this.room(h);
      this.pos = huffmanEncode(s, 0, s.length, this.buf, this.pos);
    } else {
      this.int(prefix, flags, s.length);
      this.room(s.length);
      this.buf.set(s, this.pos);
      this.pos += s.length;
    }
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
