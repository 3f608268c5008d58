// RFC 9000 §16: variable-length integer encoding.
//
// Values are JavaScript numbers, exact up to 2^53-1 (Number.MAX_SAFE_INTEGER). A varint can carry up to
// 2^62-1; what happens above 2^53-1 is decided per field (see docs/varints.md): the reader offers an exact
// read that fails with a caller-chosen error code, a saturating read for limits, and an exact read that
// returns a bigint above 2^53-1 for error codes.

/** Largest value a QUIC varint can carry: 2^62-1. */
export const MAX_VARINT = 2n ** 62n - 1n;
/** Largest varint value handled as an exact JavaScript number. */
export const MAX_SAFE_VARINT = Number.MAX_SAFE_INTEGER;

/** Encoded size in bytes of `v` (1, 2, 4 or 8). Throws RangeError for negative, fractional or too-large values. */
export function varintSize(v: number): 1 | 2 | 4 | 8 {
  if (v < 0x40 && v >= 0) {
    if (!Number.isInteger(v)) throw new RangeError(`varint: not an integer: ${v}`);
    return 1;
  }
  if (v < 0x4000 && v >= 0) {
    if (!Number.isInteger(v)) throw new RangeError(`varint: not an integer: ${v}`);
    return 2;
  }
  if (v < 0x40000000 && v >= 0) {
    if (!Number.isInteger(v)) throw new RangeError(`varint: not an integer: ${v}`);
    return 4;
  }
  if (Number.isSafeInteger(v) && v >= 0) return 8;
  throw new RangeError(`varint: out of range: ${v}`);
}

/** Encoded size of a value that may be a bigint (error codes). */
export function varintSizeExact(v: number | bigint): 1 | 2 | 4 | 8 {
  if (typeof v === 'number') return varintSize(v);
  if (v < 0n || v > MAX_VARINT) throw new RangeError(`varint: out of range: ${v}`);
  return v <= BigInt(MAX_SAFE_VARINT) ? varintSize(Number(v)) : 8;
}

/** Normalises a value read by `varintExact`: numbers when safe, bigint above 2^53-1. */
export function normalizeVarint(v: number | bigint): number | bigint {
  return typeof v === 'bigint' && v <= BigInt(MAX_SAFE_VARINT) ? Number(v) : v;
}
