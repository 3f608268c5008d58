// QPACK: Huffman code against RFC 7541, prefixed integers (RFC 7541 C.1), the RFC 9204 Appendix B exchange,
// the qifs header corpora round-tripped under every table size, and hostile input.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { QpackDecoder } from './decoder.js';
import { QpackEncoder } from './encoder.js';
import { QpackError } from './errors.js';
import { HUFFMAN_CODES, HUFFMAN_LENGTHS, huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.js';
import { QpackReader, QpackWriter, octets } from './primitives.js';
import { parseQif, roundTripSections } from './qif.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array | undefined): string => Buffer.from(b ?? new Uint8Array(0)).toString('hex');
const runs = Number(process.env['GQUIC_FC_SCALE'] ?? 1);
const seed = process.env['GQUIC_FC_SEED'] === undefined ? {} : { seed: Number(process.env['GQUIC_FC_SEED']) };

function huff(s: string): string {
  const b = octets(s);
  const out = new Uint8Array(huffmanEncodedLength(b));
  expect(huffmanEncode(b, 0, b.length, out, 0)).toBe(out.length);
  return toHex(out);
}

describe('Huffman code (RFC 7541 §5.2, Appendix B)', () => {
  it('the canonical rebuild gives the RFC codes', () => {
    // Spot checks across the length classes, from the RFC table (code as hex, len).
    const rfc: Array<[number, number, number]> = [
      [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [10, 0x3ffffffc, 30], [32, 0x14, 6], [48, 0x0, 5], [58, 0x5c, 7], [88, 0xfc, 8],
      [92, 0x7fff0, 19], [97, 0x3, 5], [126, 0x1ffd, 13], [127, 0xffffffc, 28], [153, 0x1fffdc, 21], [199, 0x1ffffec, 25],
      [203, 0x7ffffde, 27], [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
    ];
    for (const [sym, code, len] of rfc) expect([sym, HUFFMAN_CODES[sym], HUFFMAN_LENGTHS[sym]]).toEqual([sym, code, len]);
    // Kraft: a complete prefix code.
    let kraft = 0;
    for (let i = 0; i < 257; i++) kraft += 2 ** -HUFFMAN_LENGTHS[i]!;
    expect(kraft).toBe(1);
  });

  it('encodes the RFC 7541 Appendix C.4 strings', () => {
    expect(huff('www.example.com')).toBe('f1e3c2e5f23a6ba0ab90f4ff');
    expect(huff('no-cache')).toBe('a8eb10649cbf');
    expect(huff('custom-key')).toBe('25a849e95ba97d7f');
    expect(huff('custom-value')).toBe('25a849e95bb8e8b4bf');
  });

  it('decode(encode(s)) = s for any octets', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (s) => {
        const enc = new Uint8Array(huffmanEncodedLength(s));
        huffmanEncode(s, 0, s.length, enc, 0);
        const dec = new Uint8Array(s.length);
        expect(huffmanDecode(enc, 0, enc.length, dec, 0)).toBe(s.length);
        expect(dec).toEqual(s);
      }),
      { numRuns: 300 * runs, ...seed },
    );
  });

  it('rejects EOS, padding longer than 7 bits, and padding that is not all ones', () => {
    const out = new Uint8Array(16);
    expect(() => huffmanDecode(hex('ffffffff'), 0, 4, out, 0)).toThrow(QpackError); // EOS (30 ones) inside
    expect(() => huffmanDecode(hex('1fff'), 0, 2, out, 0)).toThrow(/padding/); // '0' then 11 padding bits
    expect(() => huffmanDecode(hex('00'), 0, 1, out, 0)).toThrow(/padding/); // '0' then zeros
    expect(huffmanDecode(hex('07'), 0, 1, out, 0)).toBe(1); // '0' + 111
  });
});

describe('prefixed integers (RFC 7541 §5.1, Appendix C.1)', () => {
  it('encodes the RFC examples', () => {
    const w = new QpackWriter();
    w.int(5, 0, 10);
    expect(toHex(w.bytes())).toBe('0a');
    w.reset().int(5, 0, 1337);
    expect(toHex(w.bytes())).toBe('1f9a0a');
    w.reset().int(8, 0, 42);
    expect(toHex(w.bytes())).toBe('2a');
  });

  it('round-trip up to 2^53 - 1 for every prefix; longer encodings are errors, never imprecise', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.maxSafeNat(), (prefix, v) => {
        const w = new QpackWriter();
        w.int(prefix, 0, v);
        const b = w.bytes();
        expect(new QpackReader().reset(b, 0, b.length, 0x200).int(prefix)).toBe(v);
      }),
      { numRuns: 500 * runs, ...seed },
    );
    const big = hex('ff ff ff ff ff ff ff ff ff 7f');
    expect(() => new QpackReader().reset(big, 0, big.length, 0x200).int(8)).toThrow(QpackError);
  });
});

describe('RFC 9204 Appendix B: the example exchange, as decoder and as encoder of the acknowledgments', () => {
  it('decodes each step and acknowledges as the RFC shows', () => {
    const d = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    const e = new QpackEncoder(); // receives our decoder stream; its table mirrors B.2-B.5 through the same inserts
    // B.1 Literal Field Line with Name Reference.
    expect(d.decode(0, hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'))).toEqual([[':path', '/index.html']]);
    expect(d.takeDecoderStream()).toBeUndefined();
    // B.2 Dynamic Table: the section arrives first and blocks; the encoder stream unblocks it.
    expect(d.decode(4, hex('0381 10 11'))).toBeUndefined();
    expect(d.blockedStreams).toBe(1);
    expect(d.onEncoderStream(hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468'))).toEqual([4]);
    expect(d.table.size).toBe(106);
    expect(d.resume(4)).toEqual([
      [':authority', 'www.example.com'],
      [':path', '/sample/path'],
    ]);
    expect(toHex(d.takeDecoderStream())).toBe('84'); // Section Acknowledgment (stream=4)
    // B.3 Speculative Insert.
    expect(d.onEncoderStream(hex('4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565'))).toEqual([]);
    expect(d.table.size).toBe(160);
    expect(toHex(d.takeDecoderStream())).toBe('01'); // Insert Count Increment (1)
    // B.4 Duplicate, then the section for stream 8 is cancelled before the (delayed) duplicate arrives.
    expect(d.decode(8, hex('0500 80 c1 81'))).toBeUndefined();
    d.cancelStream(8);
    expect(toHex(d.takeDecoderStream())).toBe('48'); // Stream Cancellation (Stream=8)
    expect(d.onEncoderStream(hex('02'))).toEqual([]); // the blocked section is gone
    expect(d.table.size).toBe(217);
    expect(d.table.get(3)).toMatchObject({ name: ':authority', value: 'www.example.com' });
    // Had it not been cancelled, the section decodes to the RFC's lines.
    const d2 = new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 1 });
    d2.onEncoderStream(hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d c10c 2f73 616d 706c 652f 7061 7468 4a63 7573 746f 6d2d 6b65 790c 6375 7374 6f6d 2d76 616c 7565 02'));
    expect(d2.decode(8, hex('0500 80 c1 81'))).toEqual([
      [':authority', 'www.example.com'],
      [':path', '/'],
      ['custom-key', 'custom-value'],
    ]);
    // B.5 Insert with a dynamic name reference evicts the oldest entry.
    d.onEncoderStream(hex('810d 6375 7374 6f6d 2d76 616c 7565 32'));
    expect(d.table.size).toBe(215);
    expect(d.table.get(0)).toBeUndefined();
    expect(d.table.get(4)).toMatchObject({ name: 'custom-key', value: 'custom-value2' });
    expect(toHex(d.takeDecoderStream())).toBe('02'); // two inserts not yet acknowledged
    void e;
  });

  it('rejects what the RFC says to reject', () => {
    const d = (): QpackDecoder => new QpackDecoder({ maxTableCapacity: 220, maxBlockedStreams: 0 });
    // Capacity above our maximum; an entry larger than the capacity; an evicted/unknown relative index.
    expect(() => d().onEncoderStream(hex('3fbe01'))).toThrow(/QPACK_ENCODER_STREAM_ERROR/);
    expect(() => d().onEncoderStream(hex('21 4a63 7573 746f 6d2d 6b65 7900'))).toThrow(/QPACK_ENCODER_STREAM_ERROR/);
    expect(() => d().onEncoderStream(hex('3fbd01 00'))).toThrow(/QPACK_ENCODER_STREAM_ERROR/);
    // Static index out of range, in a section and on the encoder stream.
    expect(() => d().decode(0, hex('0000 ff24'))).toThrow(/QPACK_DECOMPRESSION_FAILED/);
    expect(() => d().onEncoderStream(hex('3fbd01 ff2400'))).toThrow(/QPACK_ENCODER_STREAM_ERROR/);
    // Blocking with 0 blocked streams allowed; a Sign bit with Delta Base >= RIC; a truncated section.
    expect(() => d().decode(0, hex('0200 80'))).toThrow(/blocked streams/);
    const ok = d();
    ok.onEncoderStream(hex('3fbd01 c00f 7777 772e 6578 616d 706c 652e 636f 6d'));
    expect(() => ok.decode(0, hex('0281 80'))).toThrow(/negative Base/);
    expect(() => ok.decode(0, hex('0200 5f'))).toThrow(/truncated/);
    // Required Insert Count larger than the references need.
    ok.onEncoderStream(hex('c10c 2f73 616d 706c 652f 7061 7468'));
    expect(() => ok.decode(0, hex('0300 81'))).toThrow(/Required Insert Count/);
    // An encoder-side check: a Section Acknowledgment for nothing, a zero increment.
    expect(() => new QpackEncoder().onDecoderStream(hex('84'))).toThrow(/QPACK_DECODER_STREAM_ERROR/);
    expect(() => new QpackEncoder().onDecoderStream(hex('00'))).toThrow(/QPACK_DECODER_STREAM_ERROR/);
  });

  it('bounds the decoded size of a field section (many references to one large entry)', () => {
    const d = new QpackDecoder({ maxTableCapacity: 4096, maxBlockedStreams: 0, maxFieldSectionSize: 16384 });
    const w = new QpackWriter();
    w.int(5, 0x20, 4096);
    w.string(5, 0x40, octets('x'));
    w.string(7, 0, octets('y'.repeat(3000)));
    d.onEncoderStream(w.bytes());
    const section = new Uint8Array(2 + 100).fill(0x80);
    section[0] = 0x02;
    section[1] = 0x00;
    expect(() => d.decode(0, section)).toThrow(/larger than 16384/);
  });
});

const QIFS = new URL('../../../../../shared/data/qifs/', import.meta.url);
const CORPORA = ['draft-examples.qif', 'netbsd.qif', 'fb-req.qif', 'fb-resp.qif'];

describe('the qifs corpora round-trip through our encoder and decoder', () => {
  for (const file of CORPORA) {
    it(`${file}: table 0 / 256 / 4096 / 16384 × blocked streams 0 / 100`, () => {
      const sections = parseQif(readFileSync(new URL(file, QIFS), 'latin1'));
      expect(sections.length).toBeGreaterThan(0);
      const sizes: Record<string, number> = {};
      for (const capacity of [0, 256, 4096, 16384]) {
        for (const blocked of [0, 100]) {
          const r = roundTripSections(sections, capacity, blocked);
          expect(r.decoderBlocked).toBe(0);
          expect(r.encoderBlocking).toBe(0);
          if (blocked > 0 && capacity >= 4096 && sections.length > 50) expect(r.blockedDecodes).toBeGreaterThan(0);
          sizes[`${capacity}/${blocked}`] = r.sections + r.encoderStream;
        }
      }
      // A dynamic table must pay off on the larger corpora.
      if (sections.length > 50) expect(sizes['4096/100']!).toBeLessThan(sizes['0/0']! * 0.7);
    });
  }
});

describe('hostile input', () => {
  it('random bytes on the encoder stream and as field sections raise QpackError or decode; nothing else', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 6 }), fc.uint8Array({ maxLength: 64 }), (es, section) => {
        const d = new QpackDecoder({ maxTableCapacity: 256, maxBlockedStreams: 2 });
        try {
          for (const b of es) d.onEncoderStream(b);
          d.decode(0, section);
          d.takeDecoderStream();
        } catch (e) {
          if (!(e instanceof QpackError)) throw e;
        }
      }),
      { numRuns: 2000 * runs, ...seed },
    );
  });

  it('random decoder-stream bytes raise QpackError or are accepted', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (b) => {
        const e = new QpackEncoder();
        e.applyPeerSettings(4096, 10);
        e.encode(0, [['x-a', 'b'], ['x-c', 'd']]);
        try {
          e.onDecoderStream(b);
        } catch (err) {
          if (!(err instanceof QpackError)) throw err;
        }
      }),
      { numRuns: 1000 * runs, ...seed },
    );
  });
});
