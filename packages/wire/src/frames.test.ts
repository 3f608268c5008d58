import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbBytes, arbFrame, arbFrameSequence, runs, runsToEnd, seed } from '@gquic/testkit';
import { QuicError, TransportErrorCode as E } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { BufferReader } from './reader.js';
import { frameSize, readFrame, readFrames, utf8ByteLength, writeAck, writeFrame, writeStreamFrame, type Frame } from './frames.js';
import { BufferWriter } from './writer.js';

function encode(frames: Frame[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + frameSize(f), 0));
  const w = new BufferWriter(out);
  for (const f of frames) writeFrame(w, f);
  expect(w.pos).toBe(out.length);
  return out;
}

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof QuicError) return e.code;
    throw e;
  }
  throw new Error('expected a QuicError');
}

describe('RFC 9001 Appendix A payloads', () => {
  it('decodes and re-encodes the server Initial payload (ACK + CRYPTO) byte-exact', () => {
    const payload = fromHex(`02000000000600405a020000560303ee fce7f7b37ba1d1632e96677825ddf739
      88cfc79825df566dc5430b9a045a1200 130100002e00330024001d00209d3c94
      0d89690b84d08a60993c144eca684d10 81287c834d5311bcf32bb9da1a002b00 020304`);
    const frames = readFrames(payload);
    expect(frames.map((f) => f.type)).toEqual(['ack', 'crypto']);
    expect(frames[0]).toEqual({ type: 'ack', ackDelay: 0, ranges: [0, 0], ecn: null });
    const crypto = frames[1] as Extract<Frame, { type: 'crypto' }>;
    expect(crypto.offset).toBe(0);
    expect(crypto.data.length).toBe(90);
    expect(crypto.data[0]).toBe(2); // ServerHello
    expect(toHex(encode(frames))).toBe(toHex(payload));
  });

  it('decodes the client Initial payload: CRYPTO then 917 bytes of PADDING', () => {
    const crypto = '060040f1' + '01'.padEnd(482, 'ab');
    const frames = readFrames(fromHex(crypto + '00'.repeat(917)));
    expect(frames.map((f) => f.type)).toEqual(['crypto', 'padding']);
    expect(frames[1]).toEqual({ type: 'padding', length: 917 });
  });
});

describe('frame encodings', () => {
  it('writes STREAM frames with and without Offset and Length', () => {
    const out = new Uint8Array(16);
    const w = new BufferWriter(out);
    writeStreamFrame(w, 4, 0, fromHex('aabb'), true, false);
    expect(toHex(out.subarray(0, w.pos))).toBe('0904aabb');
    w.reset(out);
    writeStreamFrame(w, 4, 100, fromHex('aabb'), false, true);
    expect(toHex(out.subarray(0, w.pos))).toBe('0e04406402aabb');
    expect(readFrame(new BufferReader(fromHex('0904aabb')))).toEqual({ type: 'stream', streamId: 4, offset: 0, data: fromHex('aabb'), fin: true });
  });

  it('writes ACK ranges with gaps as RFC 9000 §19.3.1 defines them', () => {
    const out = new Uint8Array(32);
    const w = new BufferWriter(out);
    // Acknowledge 100-95 and 90-80: the gap is 95 - 90 - 2 = 3.
    writeAck(w, 7, [100, 95, 90, 80], { ect0: 1, ect1: 2, ce: 3 });
    expect(toHex(out.subarray(0, w.pos))).toBe('03' + '4064' + '07' + '01' + '05' + '03' + '0a' + '010203');
    expect(readFrame(new BufferReader(out, 0, w.pos))).toEqual({ type: 'ack', ackDelay: 7, ranges: [100, 95, 90, 80], ecn: { ect0: 1, ect1: 2, ce: 3 } });
  });

  it('caps the ranges written, keeping the newest', () => {
    const out = new Uint8Array(32);
    const w = new BufferWriter(out);
    writeAck(w, 0, [100, 95, 90, 80, 50, 40], null, 2);
    expect((readFrame(new BufferReader(out, 0, w.pos)) as Extract<Frame, { type: 'ack' }>).ranges).toEqual([100, 95, 90, 80]);
  });

  it('computes UTF-8 lengths like TextEncoder', () => {
    for (const s of ['', 'abc', 'é', '€', '😀', 'a\ud800b', '\udc00']) expect(utf8ByteLength(s)).toBe(new TextEncoder().encode(s).length);
  });
});

describe('frame validation errors carry the RFC code and the frame type', () => {
  it.each([
    ['unknown frame type', '1f', E.FRAME_ENCODING_ERROR],
    ['frame type not minimally encoded (PING as 0x4001)', '4001', E.PROTOCOL_VIOLATION],
    ['empty NEW_TOKEN (§19.7)', '0700', E.FRAME_ENCODING_ERROR],
    ['ACK range below zero (§19.3.1)', '0205000006', E.FRAME_ENCODING_ERROR],
    ['ACK gap below zero', '02050001000400', E.FRAME_ENCODING_ERROR],
    ['ACK of a packet number above 2^53-1 (§13.1)', '02c02000000000000000000000', E.PROTOCOL_VIOLATION],
    ['ACK range count larger than the frame', '0205004000', E.FRAME_ENCODING_ERROR],
    ['MAX_STREAMS above 2^60 (§19.11)', '12d000000000000001', E.FRAME_ENCODING_ERROR],
    ['STREAMS_BLOCKED above 2^60 (§19.14)', '17d000000000000001', E.FRAME_ENCODING_ERROR],
    ['STREAM offset past 2^53-1', '0c00c020000000000000', E.FLOW_CONTROL_ERROR],
    ['STREAM offset + length past 2^53-1', '0e00c01fffffffffffff01aa', E.FLOW_CONTROL_ERROR],
    ['STREAM id past 2^53-1', '08c020000000000000', E.STREAM_LIMIT_ERROR],
    ['RESET_STREAM final size past 2^53-1', '040000c020000000000000', E.FLOW_CONTROL_ERROR],
    ['CRYPTO offset past 2^53-1 (§19.6)', '06c02000000000000000', E.CRYPTO_BUFFER_EXCEEDED],
    ['NEW_CONNECTION_ID with Retire Prior To > Sequence Number (§19.15)', '180102' + '04aabbccdd' + '00'.repeat(16), E.FRAME_ENCODING_ERROR],
    ['NEW_CONNECTION_ID with a 0-byte CID', '180100' + '00' + '00'.repeat(16), E.FRAME_ENCODING_ERROR],
    ['NEW_CONNECTION_ID with a 21-byte CID', '180100' + '15' + '00'.repeat(37), E.FRAME_ENCODING_ERROR],
    ['truncated PATH_CHALLENGE', '1a01020304', E.FRAME_ENCODING_ERROR],
  ])('%s', (_name, hex, code) => {
    expect(codeOf(() => readFrames(fromHex(hex)))).toBe(code);
  });

  it('saturates limits above 2^53-1 to MAX_SAFE_INTEGER ("unlimited")', () => {
    expect(readFrames(fromHex('10ffffffffffffffff'))).toEqual([{ type: 'max_data', maximum: Number.MAX_SAFE_INTEGER }]);
    expect(readFrames(fromHex('12c01fffffffffffff12d000000000000000'))).toEqual([
      { type: 'max_streams', bidirectional: true, maximum: Number.MAX_SAFE_INTEGER },
      { type: 'max_streams', bidirectional: true, maximum: Number.MAX_SAFE_INTEGER },
    ]);
  });

  it('keeps error codes above 2^53-1 exact as bigint', () => {
    const [f] = readFrames(fromHex('1cffffffffffffffff0000'));
    expect(f).toEqual({ type: 'connection_close', isApplication: false, errorCode: 2n ** 62n - 1n, frameType: 0, reason: '' });
  });

  it('records the frame type on a truncation error', () => {
    try {
      readFrames(fromHex('0e04406405aabb'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QuicError);
      expect((e as QuicError).frameType).toBe(0x0e);
    }
  });
});

describe('frame properties', () => {
  it('decode(encode(f)) = f for every frame type, and frameSize equals the bytes written', () => {
    const buf = new Uint8Array(4096);
    const w = new BufferWriter();
    const r = new BufferReader();
    fc.assert(
      fc.property(arbFrame, (f) => {
        w.reset(buf);
        writeFrame(w, f);
        expect(w.pos).toBe(frameSize(f));
        r.reset(buf, 0, w.pos);
        expect(readFrame(r)).toEqual(f);
        expect(r.remaining).toBe(0);
      }),
      { numRuns: runs(30_000), ...seed() },
    );
  });

  it('decode(encode(frames)) = frames for whole payloads', () => {
    fc.assert(
      fc.property(arbFrameSequence, (frames) => {
        expect(readFrames(encode(frames))).toEqual(frames);
      }),
      { numRuns: runs(5_000), ...seed() },
    );
  });

  it('every truncation of a frame is a typed error (frames that run to the end of the packet excepted)', () => {
    const buf = new Uint8Array(4096);
    const w = new BufferWriter();
    const r = new BufferReader();
    fc.assert(
      fc.property(
        arbFrame.filter((f) => !runsToEnd(f)),
        fc.nat(),
        (f, cut) => {
          w.reset(buf);
          writeFrame(w, f);
          r.reset(buf, 0, cut % w.pos);
          const e = (() => {
            try {
              readFrame(r);
            } catch (err) {
              return err;
            }
            return null;
          })();
          expect(e).toBeInstanceOf(QuicError);
          expect((e as QuicError).code).toBe(E.FRAME_ENCODING_ERROR);
        },
      ),
      { numRuns: runs(15_000), ...seed() },
    );
  });

  it('arbitrary bytes decode as frames or give a QuicError, never another exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          arbBytes(0, 200),
          // Valid-looking starts: a known frame type followed by noise.
          fc.tuple(fc.integer({ min: 0, max: 0x31 }), arbBytes(0, 200)).map(([t, rest]) => Uint8Array.of(t, ...rest)),
        ),
        (bytes) => {
          try {
            readFrames(bytes);
          } catch (e) {
            if (!(e instanceof QuicError)) throw e;
          }
        },
      ),
      { numRuns: runs(20_000), ...seed() },
    );
  });
});
