import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbErrorCode, arbVarint, runs, seed } from '@gquic/testkit';
import { QuicError, TransportErrorCode } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { BufferReader } from './reader.js';
import { varintSize, varintSizeExact } from './varint.js';
import { BufferWriter, patchVarint2 } from './writer.js';

function encode(v: number | bigint): string {
  const out = new Uint8Array(8);
  const w = new BufferWriter(out);
  w.varintExact(v);
  return toHex(out.subarray(0, w.pos));
}

describe('varint (RFC 9000 §16, Appendix A.1)', () => {
  it('decodes the Appendix A.1 examples exactly', () => {
    const r = new BufferReader(fromHex('c2197c5eff14e88c'));
    expect(r.varintExact()).toBe(151288809941952652n);
    expect(new BufferReader(fromHex('9d7f3e7d')).varint()).toBe(494878333);
    expect(new BufferReader(fromHex('7bbd')).varint()).toBe(15293);
    expect(new BufferReader(fromHex('25')).varint()).toBe(37);
    expect(new BufferReader(fromHex('4025')).varint()).toBe(37);
  });

  it('encodes the Appendix A.1 examples byte-exact', () => {
    expect(encode(151288809941952652n)).toBe('c2197c5eff14e88c');
    expect(encode(494878333)).toBe('9d7f3e7d');
    expect(encode(15293)).toBe('7bbd');
    expect(encode(37)).toBe('25');
  });

  it('uses the shortest encoding at each boundary', () => {
    expect(encode(63)).toBe('3f');
    expect(encode(64)).toBe('4040');
    expect(encode(16383)).toBe('7fff');
    expect(encode(16384)).toBe('80004000');
    expect(encode(2 ** 30 - 1)).toBe('bfffffff');
    expect(encode(2 ** 30)).toBe('c000000040000000');
    expect(encode(Number.MAX_SAFE_INTEGER)).toBe('c01fffffffffffff');
    expect(encode(2n ** 62n - 1n)).toBe('ffffffffffffffff');
  });

  it('handles values above 2^53-1 by the method chosen, never silently', () => {
    const max = fromHex('ffffffffffffffff');
    expect(new BufferReader(max).varintExact()).toBe(2n ** 62n - 1n);
    expect(new BufferReader(max).varintSaturating()).toBe(Number.MAX_SAFE_INTEGER);
    const e = catchError(() => new BufferReader(max).varint(TransportErrorCode.FLOW_CONTROL_ERROR));
    expect(e).toBeInstanceOf(QuicError);
    expect((e as QuicError).code).toBe(TransportErrorCode.FLOW_CONTROL_ERROR);
    // 2^53 exactly is the first value past the safe range.
    expect(new BufferReader(fromHex('c020000000000000')).varintExact()).toBe(2n ** 53n);
    expect(new BufferReader(fromHex('c01fffffffffffff')).varintExact()).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('refuses to encode what a varint cannot carry', () => {
    const w = new BufferWriter(new Uint8Array(8));
    expect(() => w.varint(-1)).toThrow(RangeError);
    expect(() => w.varint(1.5)).toThrow(RangeError);
    expect(() => w.varint(2 ** 53)).toThrow(RangeError);
    expect(() => w.varintExact(2n ** 62n)).toThrow(RangeError);
    expect(() => varintSize(-3)).toThrow(RangeError);
    expect(() => w.varintFixed(64, 1)).toThrow(RangeError);
    expect(() => patchVarint2(new Uint8Array(2), 0, 16384)).toThrow(RangeError);
  });

  it('writes fixed-length encodings that decode to the same value', () => {
    const out = new Uint8Array(15);
    const w = new BufferWriter(out);
    w.varintFixed(37, 1);
    w.varintFixed(37, 2);
    w.varintFixed(37, 4);
    w.varintFixed(37, 8);
    expect(toHex(out)).toBe('25' + '4025' + '80000025' + 'c000000000000025');
    const r = new BufferReader(out);
    for (let i = 0; i < 4; i++) expect(r.varint()).toBe(37);
  });

  it('reports truncation with the configured error code', () => {
    const r = new BufferReader(fromHex('c2197c'), 0, 3, TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
    const e = catchError(() => r.varint());
    expect((e as QuicError).code).toBe(TransportErrorCode.TRANSPORT_PARAMETER_ERROR);
  });

  it('property: decode(encode(v)) === v, and the size matches what was written', () => {
    const buf = new Uint8Array(8);
    const w = new BufferWriter();
    const r = new BufferReader();
    fc.assert(
      fc.property(arbErrorCode, (v) => {
        w.reset(buf);
        w.varintExact(v);
        expect(w.pos).toBe(varintSizeExact(v));
        r.reset(buf, 0, w.pos);
        expect(r.varintExact()).toBe(v);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });

  it('property: every truncation of an encoding is a typed error', () => {
    const buf = new Uint8Array(8);
    fc.assert(
      fc.property(arbVarint(), fc.nat(), (v, cut) => {
        const w = new BufferWriter(buf);
        w.varint(v);
        const n = cut % w.pos;
        expect(() => new BufferReader(buf, 0, n).varint()).toThrow(QuicError);
      }),
      { numRuns: runs(5_000), ...seed() },
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}
