import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '@gquic/wire';
import { runs, seed } from '@gquic/testkit';
import { RangeSet } from '../range-set.js';
import { RecvStream } from './recv-stream.js';
import { SendStream } from './send-stream.js';
import { StreamMap } from './stream-map.js';

const windows = { bidiLocal: 1000, bidiRemote: 1000, uni: 1000, maxWindow: 8000, maxStreamsBidi: 2, maxStreamsUni: 1, sendBufferLimit: 10_000 };

describe('RangeSet', () => {
  it('merges, splits and answers containment', () => {
    const r = new RangeSet();
    r.add(10, 20);
    r.add(30, 40);
    r.add(20, 30);
    expect(r.r).toEqual([10, 40]);
    r.remove(15, 25);
    expect(r.r).toEqual([10, 15, 25, 40]);
    expect(r.contains(26, 40)).toBe(true);
    expect(r.contains(14, 16)).toBe(false);
    expect(r.contiguousEnd(10)).toBe(15);
  });
});

describe('SendStream (RFC 9000 §3.1)', () => {
  it('sends within MAX_STREAM_DATA, resends lost ranges first, releases what is acknowledged', () => {
    const s = new SendStream(0, 100, 1000);
    expect(s.write(new Uint8Array(300).map((_, i) => i), true)).toBe(300);
    const a = s.nextChunk(60, Infinity)!;
    const b = s.nextChunk(60, Infinity)!;
    expect([a.offset, a.data.length, b.offset, b.data.length]).toEqual([0, 60, 60, 40]);
    expect(s.nextChunk(60, Infinity)).toBeNull(); // flow control
    expect(s.isBlocked).toBe(true);
    s.onLost(0, 60, false);
    s.maxData = 1000;
    const again = s.nextChunk(100, Infinity)!;
    expect([again.offset, again.data.length, again.isNew, again.data[59]]).toEqual([0, 60, false, 59]);
    const rest = s.nextChunk(1000, Infinity)!;
    expect([rest.offset, rest.data.length, rest.fin]).toEqual([100, 200, true]);
    s.onAcked(0, 100, false);
    s.onAcked(100, 200, true);
    expect(s.state).toBe('data-recvd');
    expect(s.buffered).toBe(0);
  });

  it('a range declared lost and then acknowledged after all is not resent (no stale bytes)', () => {
    const s = new SendStream(0, Infinity, 1000);
    s.write(new Uint8Array(100).fill(1), true);
    s.nextChunk(100, Infinity);
    s.onLost(0, 100, true);
    s.onAcked(0, 100, true);
    expect(s.hasData()).toBe(false);
    expect(s.nextChunk(100, Infinity)).toBeNull();
  });

  it('delivers exactly the written bytes under any pattern of loss and acknowledgement (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 3000 }), fc.array(fc.tuple(fc.integer({ min: 1, max: 500 }), fc.nat(3)), { minLength: 1, maxLength: 200 }), (data, ops) => {
        const s = new SendStream(0, Infinity, 4096);
        s.write(data, true);
        const r = new RecvStream(0, 1 << 20, 1 << 20);
        const flight: Array<{ offset: number; data: Uint8Array; fin: boolean }> = [];
        for (const [len, op] of ops) {
          const c = s.nextChunk(len, Infinity);
          if (c !== null) flight.push(c);
          const f = flight.shift();
          if (f === undefined) continue;
          if (op === 0) s.onLost(f.offset, f.data.length, f.fin);
          else {
            r.onData(f.offset, f.data, f.fin);
            s.onAcked(f.offset, f.data.length, f.fin);
          }
        }
        // Deliver everything still pending, then whatever is resent.
        for (let guard = 0; guard < 10_000 && !s.isDone; guard++) {
          for (const f of flight.splice(0)) {
            r.onData(f.offset, f.data, f.fin);
            s.onAcked(f.offset, f.data.length, f.fin);
          }
          const c = s.nextChunk(500, Infinity);
          if (c !== null) flight.push(c);
        }
        const out: Uint8Array[] = [];
        for (let x = r.read(1 << 20, 0, 1); x !== null; x = r.read(1 << 20, 0, 1)) {
          out.push(x.data);
          if (x.fin) break;
        }
        expect(Buffer.concat(out).equals(data)).toBe(true);
      }),
      { numRuns: runs(500), ...seed() },
    );
  });
});

describe('RecvStream (RFC 9000 §3.2, §4.5)', () => {
  it('reassembles out of order and enforces flow control and final size', () => {
    const r = new RecvStream(0, 100, 1000);
    r.onData(50, new Uint8Array(50).fill(2), true);
    expect(r.read(100, 0, 1)).toBeNull();
    r.onData(0, new Uint8Array(50).fill(1), false);
    const x = r.read(1000, 0, 1)!;
    expect([x.data.length, x.fin]).toEqual([50, false]);
    expect(r.read(1000, 0, 1)!.fin).toBe(true);
    const y = new RecvStream(4, 100, 1000);
    expect(() => y.onData(90, new Uint8Array(20), false)).toThrow(expect.objectContaining({ code: TransportErrorCode.FLOW_CONTROL_ERROR }));
    const z = new RecvStream(4, 100, 1000);
    z.onData(0, new Uint8Array(10), true);
    expect(() => z.onData(5, new Uint8Array(10), false)).toThrow(expect.objectContaining({ code: TransportErrorCode.FINAL_SIZE_ERROR }));
    expect(() => z.onReset(0, 12)).toThrow(expect.objectContaining({ code: TransportErrorCode.FINAL_SIZE_ERROR }));
  });

  it('raises MAX_STREAM_DATA after half the window is read, doubling the window when reads come fast', () => {
    const r = new RecvStream(0, 1000, 4000);
    r.onData(0, new Uint8Array(600), false);
    r.read(600, 1000, 50_000);
    expect(r.maxDataPending).toBe(true);
    expect(r.window).toBe(2000);
    expect(r.maxData).toBe(2600);
  });
});

describe('StreamMap (RFC 9000 §2.1, §4.6)', () => {
  it('opens within limits and rejects impossible stream frames', () => {
    const m = new StreamMap(true, windows);
    m.setPeerLimits({ initialMaxStreamDataBidiLocal: 10, initialMaxStreamDataBidiRemote: 10, initialMaxStreamDataUni: 10, initialMaxStreamsBidi: 1, initialMaxStreamsUni: 0 });
    expect(m.open(true)).toBe(1);
    expect(m.open(true)).toBeUndefined();
    expect(m.blockedBidiAt).toBe(1);
    expect(m.open(false)).toBeUndefined();
    m.forPeerFrame(4, 'recv', 8); // client bidi stream 4 opens 0 too
    expect(m.newPeerStreams).toEqual([0, 4]);
    expect(() => m.forPeerFrame(8, 'recv', 8)).toThrow(expect.objectContaining({ code: TransportErrorCode.STREAM_LIMIT_ERROR }));
    expect(() => m.forPeerFrame(5, 'recv', 8)).toThrow(expect.objectContaining({ code: TransportErrorCode.STREAM_STATE_ERROR }));
    expect(() => m.forPeerFrame(3, 'recv', 8)).toThrow(expect.objectContaining({ code: TransportErrorCode.STREAM_STATE_ERROR }));
    m.forPeerFrame(2, 'recv', 8); // client uni
    expect(() => m.forPeerFrame(2, 'send', 0x11)).toThrow(expect.objectContaining({ code: TransportErrorCode.STREAM_STATE_ERROR }));
  });
});
