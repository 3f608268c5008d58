import { QuicError, TransportErrorCode } from './errors.js';

const EMPTY = new Uint8Array(0);
const TWO_32 = 0x1_0000_0000;
/** hi word of 2^53: values with hi >= this are above Number.MAX_SAFE_INTEGER. */
const SAFE_HI_LIMIT = 0x20_0000;

/**
 * A reusable read cursor over a `Uint8Array`. One instance is reset per packet or message; no reads
 * allocate except `bytes()` (a view) and `copy()`.
 *
 * Reading past `end` throws a {@link QuicError} with `truncationCode` (FRAME_ENCODING_ERROR by default), so
 * every decoder built on it reports truncated input with a typed error.
 */
export class BufferReader {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** Error code thrown when input ends early. */
  truncationCode: number = TransportErrorCode.FRAME_ENCODING_ERROR;
  /** The two 32-bit halves of the last varint read: exact even above 2^53-1. */
  lastHi = 0;
  lastLo = 0;

  constructor(buf?: Uint8Array, start = 0, end?: number, truncationCode: number = TransportErrorCode.FRAME_ENCODING_ERROR) {
    if (buf !== undefined) this.reset(buf, start, end, truncationCode);
  }

  reset(buf: Uint8Array, start = 0, end: number = buf.length, truncationCode: number = TransportErrorCode.FRAME_ENCODING_ERROR): this {
    if (start < 0 || end > buf.length || start > end) throw new RangeError('BufferReader: bad bounds');
    this.buf = buf;
    this.pos = start;
    this.end = end;
    this.truncationCode = truncationCode;
    return this;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws the truncation error unless `n` more bytes are available. */
  need(n: number): void {
    if (n > this.end - this.pos || n < 0) throw this.truncated();
  }

  truncated(): QuicError {
    return new QuicError(this.truncationCode, 'input truncated');
  }

  u8(): number {
    if (this.pos >= this.end) throw this.truncated();
    return this.buf[this.pos++]!;
  }

  peekU8(): number {
    if (this.pos >= this.end) throw this.truncated();
    return this.buf[this.pos]!;
  }

  u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  /** Reads an n-byte big-endian unsigned integer, 0 <= n <= 4 (packet numbers). */
  uint(n: number): number {
    this.need(n);
    const b = this.buf;
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + b[this.pos++]!;
    return v;
  }

  /** Reads a varint into `lastHi`/`lastLo`; returns its encoded length. */
  private varintParts(): number {
    const b = this.buf;
    const p = this.pos;
    if (p >= this.end) throw this.truncated();
    const b0 = b[p]!;
    const len = 1 << (b0 >> 6);
    if (p + len > this.end) throw this.truncated();
    this.pos = p + len;
    switch (len) {
      case 1:
        this.lastHi = 0;
        this.lastLo = b0;
        break;
      case 2:
        this.lastHi = 0;
        this.lastLo = ((b0 & 0x3f) << 8) | b[p + 1]!;
        break;
      case 4:
        this.lastHi = 0;
        this.lastLo = (((b0 & 0x3f) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        break;
      default:
        this.lastHi = (((b0 & 0x3f) << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
        this.lastLo = ((b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!) >>> 0;
    }
    return len;
  }

  /** True when the last varint read exceeds 2^53-1. */
  get lastAboveSafe(): boolean {
    return this.lastHi >= SAFE_HI_LIMIT;
  }

  /** True when the last varint read exceeds 2^60 (RFC 9000 §19.11 MAX_STREAMS bound). */
  get lastAbove2Pow60(): boolean {
    return this.lastHi > 0x1000_0000 || (this.lastHi === 0x1000_0000 && this.lastLo > 0);
  }

  /**
   * An exact varint. Values above 2^53-1 throw a QuicError with `codeAboveSafe`: the caller names the
   * error that the RFC prescribes for a value beyond any limit we can advertise.
   */
  varint(codeAboveSafe: number = TransportErrorCode.FRAME_ENCODING_ERROR): number {
    // Fast path for the common 1- and 2-byte encodings.
    const p = this.pos;
    if (p < this.end) {
      const b0 = this.buf[p]!;
      if (b0 < 0x40) {
        this.pos = p + 1;
        return b0;
      }
      if (b0 < 0x80 && p + 2 <= this.end) {
        this.pos = p + 2;
        return ((b0 & 0x3f) << 8) | this.buf[p + 1]!;
      }
    }
    this.varintParts();
    if (this.lastHi >= SAFE_HI_LIMIT) throw new QuicError(codeAboveSafe, 'varint above 2^53-1');
    return this.lastHi * TWO_32 + this.lastLo;
  }

  /** A varint used as a limit: values above 2^53-1 saturate to Number.MAX_SAFE_INTEGER ("unlimited"). */
  varintSaturating(): number {
    this.varintParts();
    if (this.lastHi >= SAFE_HI_LIMIT) return Number.MAX_SAFE_INTEGER;
    return this.lastHi * TWO_32 + this.lastLo;
  }

  /** An exact varint of any size: a number up to 2^53-1, a bigint above (error codes). */
  varintExact(): number | bigint {
    this.varintParts();
    if (this.lastHi >= SAFE_HI_LIMIT) return (BigInt(this.lastHi) << 32n) | BigInt(this.lastLo);
    return this.lastHi * TWO_32 + this.lastLo;
  }

  /** Length in bytes of the varint that starts at the cursor, without consuming it. */
  peekVarintLength(): number {
    return 1 << (this.peekU8() >> 6);
  }

  /** A view of the next `n` bytes (no copy; valid while the underlying buffer is). */
  bytes(n: number): Uint8Array {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** A copy of the next `n` bytes, for values that outlive the datagram buffer. */
  copy(n: number): Uint8Array {
    this.need(n);
    const p = this.pos;
    this.pos = p + n;
    return this.buf.slice(p, p + n);
  }

  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /** Everything up to `end`, as a view. */
  rest(): Uint8Array {
    const p = this.pos;
    this.pos = this.end;
    return this.buf.subarray(p, this.end);
  }
}
