import { MAX_VARINT } from './varint.js';

const EMPTY = new Uint8Array(0);
const TWO_32 = 0x1_0000_0000;

/**
 * A reusable write cursor over a caller-owned `Uint8Array`. Writing past `end` throws RangeError: callers
 * size their output first (every codec has a size function), so an overflow is a bug, never network input.
 */
export class BufferWriter {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;

  constructor(buf?: Uint8Array, start = 0, end?: number) {
    if (buf !== undefined) this.reset(buf, start, end);
  }

  reset(buf: Uint8Array, start = 0, end: number = buf.length): this {
    if (start < 0 || end > buf.length || start > end) throw new RangeError('BufferWriter: bad bounds');
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private room(n: number): void {
    if (n > this.end - this.pos) throw new RangeError(`BufferWriter: ${n} bytes do not fit in ${this.end - this.pos}`);
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.room(2);
    const b = this.buf;
    b[this.pos++] = v >>> 8;
    b[this.pos++] = v;
  }

  u32(v: number): void {
    this.room(4);
    const b = this.buf;
    b[this.pos++] = v >>> 24;
    b[this.pos++] = v >>> 16;
    b[this.pos++] = v >>> 8;
    b[this.pos++] = v;
  }

  /** An n-byte big-endian unsigned integer, 0 <= n <= 4 (packet numbers). */
  uint(v: number, n: number): void {
    this.room(n);
    const b = this.buf;
    for (let i = n - 1; i >= 0; i--) {
      b[this.pos + i] = v & 0xff;
      v = Math.floor(v / 256);
    }
    this.pos += n;
  }

  /** RFC 9000 §16: shortest encoding of `v`, 0 <= v <= 2^53-1. */
  varint(v: number): void {
    if (!Number.isInteger(v)) throw new RangeError(`varint: not an integer: ${v}`);
    if (v < 0x40 && v >= 0) {
      this.room(1);
      this.buf[this.pos++] = v;
    } else if (v < 0x4000 && v >= 0) {
      this.room(2);
      this.buf[this.pos++] = 0x40 | (v >>> 8);
      this.buf[this.pos++] = v;
    } else if (v < 0x4000_0000 && v >= 0) {
      this.room(4);
      this.u32((v | 0x8000_0000) >>> 0);
    } else {
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint: out of range: ${v}`);
      this.room(8);
      this.u32((Math.floor(v / TWO_32) | 0xc000_0000) >>> 0);
      this.u32(v >>> 0);
    }
  }

  /** A varint that may be a bigint up to 2^62-1 (error codes). */
  varintExact(v: number | bigint): void {
    if (typeof v === 'number') return this.varint(v);
    if (v < 0n || v > MAX_VARINT) throw new RangeError(`varint: out of range: ${v}`);
    if (v <= BigInt(Number.MAX_SAFE_INTEGER)) return this.varint(Number(v));
    this.room(8);
    this.u32(Number(v >> 32n) | 0xc000_0000);
    this.u32(Number(v & 0xffff_ffffn));
  }

  /** A varint in exactly `len` bytes (1, 2, 4 or 8): for fields filled in after the fact, like Length. */
  varintFixed(v: number, len: 1 | 2 | 4 | 8): void {
    const max = len === 1 ? 0x3f : len === 2 ? 0x3fff : len === 4 ? 0x3fff_ffff : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`varint: ${v} does not fit in ${len} bytes`);
    this.room(len);
    const b = this.buf;
    const p = this.pos;
    if (len === 1) b[p] = v;
    else if (len === 2) {
      b[p] = 0x40 | (v >>> 8);
      b[p + 1] = v;
    } else if (len === 4) {
      this.u32((v | 0x8000_0000) >>> 0);
      return;
    } else {
      this.u32((Math.floor(v / TWO_32) | 0xc000_0000) >>> 0);
      this.u32(v >>> 0);
      return;
    }
    this.pos = p + len;
  }

  bytes(src: Uint8Array): void {
    this.room(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** `n` copies of `byte` (PADDING). */
  fill(byte: number, n: number): void {
    this.room(n);
    this.buf.fill(byte, this.pos, this.pos + n);
    this.pos += n;
  }
}

/** Writes a 2-byte varint at `offset` of `buf` (a Length field reserved with `varintFixed(0, 2)`). */
export function patchVarint2(buf: Uint8Array, offset: number, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0x3fff) throw new RangeError(`varint: ${v} does not fit in 2 bytes`);
  buf[offset] = 0x40 | (v >>> 8);
  buf[offset + 1] = v;
}
