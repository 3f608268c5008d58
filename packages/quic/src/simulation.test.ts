// The transport core on the simulated network (issue: "Simulation harness"): loss, reordering, duplication,
// amplification, flow and stream limits, idle timeout, and random schedules.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '@gquic/wire';
import { QuicPair, patternBytes, runs, seed, sendOneWay } from '@gquic/testkit';
import type { Connection } from './connection.js';

const MS = 1000;

function transfer(p: QuicPair, data: Uint8Array, maxUs: number, chunk = 65536): { received: Buffer; done: boolean } {
  return sendOneWay(p, data, { maxUs, chunk });
}

describe('handshake under loss', () => {
  for (const s of [1, 2, 3, 4, 5, 6]) {
    it(`completes with 30% loss in each direction (seed ${s})`, () => {
      const p = new QuicPair({ seed: s, clientToServer: { delayUs: 20 * MS, loss: 0.3 }, serverToClient: { delayUs: 20 * MS, loss: 0.3 } });
      expect(p.handshake(60_000_000)).toBe(true);
    });
  }
});

describe('bulk transfer', () => {
  it('10 MB under 5% loss with reordering and duplication arrives byte-exact', () => {
    const link = { delayUs: 10 * MS, jitterUs: 2 * MS, loss: 0.05, reorder: 0.05, reorderDelayUs: 5 * MS, duplicate: 0.02, bandwidthBps: 200e6, queuePackets: 1000 };
    const p = new QuicPair({ seed: 42, clientToServer: link, serverToClient: link });
    expect(p.handshake()).toBe(true);
    const data = patternBytes(10 << 20, 7);
    const { received, done } = transfer(p, data, 600_000_000);
    expect(done).toBe(true);
    expect(received.length).toBe(data.length);
    expect(received.equals(data)).toBe(true);
    expect(p.conn.stats().packetsLost).toBeGreaterThan(0);
  });

  it('corrupted datagrams are dropped, not delivered', () => {
    const link = { delayUs: 5 * MS, corrupt: 0.1 };
    const p = new QuicPair({ seed: 9, clientToServer: link, serverToClient: link });
    expect(p.handshake(30_000_000)).toBe(true);
    const data = patternBytes(200_000, 3);
    const { received, done } = transfer(p, data, 60_000_000);
    expect(done).toBe(true);
    expect(received.equals(data)).toBe(true);
  });
});

describe('address validation', () => {
  it('the server never sends more than three times what it received before the client is validated', () => {
    // Only the client's first datagram gets through: the server cannot validate the address.
    const p = new QuicPair({ clientToServer: { delayUs: 10 * MS, drop: (_d, i) => i > 0 }, serverToClient: { delayUs: 10 * MS } });
    p.run(() => false, 10_000_000);
    const received = p.net.receivedBytes[1];
    const sent = p.net.sentBytes[1];
    expect(received).toBeGreaterThanOrEqual(1200);
    expect(sent).toBeGreaterThan(0);
    expect(sent).toBeLessThanOrEqual(3 * received);
  });
});

describe('limits', () => {
  it('a peer exceeding stream flow control gets FLOW_CONTROL_ERROR', () => {
    const p = new QuicPair({ serverTransport: { streamWindow: 10_000 } });
    expect(p.handshake()).toBe(true);
    const id = p.conn.openStream(true)!;
    // Misbehave: ignore the server's limit.
    p.conn.streams.send.get(id)!.maxData = Number.POSITIVE_INFINITY;
    p.conn.streamWrite(id, new Uint8Array(50_000), true);
    p.run(() => p.serverConn!.state !== 'established', 5_000_000);
    p.run(() => p.clientEvents.some((e) => e.type === 'closed'), 5_000_000);
    const closed = p.clientEvents.find((e) => e.type === 'closed');
    expect(closed).toMatchObject({ byPeer: true, errorCode: TransportErrorCode.FLOW_CONTROL_ERROR, isApplication: false });
  });

  it('a peer opening too many streams gets STREAM_LIMIT_ERROR', () => {
    const p = new QuicPair({ serverTransport: { maxStreamsBidi: 3 } });
    expect(p.handshake()).toBe(true);
    p.conn.streams.peerMaxBidi = 100; // misbehave
    for (let i = 0; i < 5; i++) p.conn.streamWrite(p.conn.openStream(true)!, Uint8Array.of(i));
    p.run(() => p.clientEvents.some((e) => e.type === 'closed'), 5_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ byPeer: true, errorCode: TransportErrorCode.STREAM_LIMIT_ERROR });
  });

  it('a well-behaved sender waits for MAX_STREAMS and MAX_DATA instead', () => {
    const p = new QuicPair({ serverTransport: { maxStreamsBidi: 2, connectionWindow: 20_000, streamWindow: 8_000 } });
    expect(p.handshake()).toBe(true);
    const ids: number[] = [];
    const data = patternBytes(30_000, 5);
    const got = new Map<number, Uint8Array[]>();
    let finished = 0;
    const ok = p.run(
      () => finished === 6,
      60_000_000,
      () => {
        while (ids.length < 6) {
          const id = p.conn.openStream(true);
          if (id === undefined) break;
          ids.push(id);
          got.set(id, []);
        }
        for (const id of ids) {
          const s = p.conn.streams.send.get(id);
          if (s !== undefined && !s.finWritten) p.conn.streamWrite(id, data.subarray(s.writeOffset), true);
        }
        const srv = p.serverConn;
        if (srv === undefined) return;
        for (const id of ids) {
          for (let r = srv.streamRead(id, 1 << 20, p.now); r !== null; r = srv.streamRead(id, 1 << 20, p.now)) {
            got.get(id)!.push(r.data);
            if (r.fin) {
              finished++;
              srv.streamFinish(id);
            }
          }
        }
      },
    );
    expect(ok).toBe(true);
    for (const id of ids) expect(Buffer.concat(got.get(id)!).equals(data)).toBe(true);
  });
});

describe('closing', () => {
  it('idle timeout closes both sides', () => {
    const p = new QuicPair({ transport: { idleTimeoutMs: 2000 } });
    expect(p.handshake()).toBe(true);
    const t0 = p.now;
    expect(p.run(() => p.conn.isClosed && p.serverConn!.isClosed, 60_000_000)).toBe(true);
    expect(p.now - t0).toBeGreaterThanOrEqual(2_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ idle: true });
    expect(p.serverEvents.find((e) => e.type === 'closed')).toMatchObject({ idle: true });
  });

  it('an application close reaches the peer with its code and reason; both sides end', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    p.conn.close(0x42, 'bye', true, p.now);
    expect(p.run(() => p.conn.isClosed && p.serverConn!.isClosed, 10_000_000)).toBe(true);
    expect(p.serverEvents.find((e) => e.type === 'closed')).toEqual({ type: 'closed', errorCode: 0x42, isApplication: true, reason: 'bye', byPeer: true, idle: false });
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ errorCode: 0x42, byPeer: false });
  });

  it('reset and stop-sending reach the peer', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    const a = p.conn.openStream(true)!;
    p.conn.streamWrite(a, new Uint8Array(5000));
    p.run(() => p.serverEvents.some((e) => e.type === 'stream-opened'), 5_000_000);
    p.conn.streamReset(a, 7);
    const b = p.conn.openStream(true)!;
    p.conn.streamWrite(b, Uint8Array.of(1));
    p.run(() => p.serverEvents.some((e) => e.type === 'stream-opened' && e.streamId === b), 5_000_000);
    p.serverConn!.streamStopSending(b, 9, p.now);
    p.run(() => p.serverEvents.some((e) => e.type === 'stream-reset') && p.clientEvents.some((e) => e.type === 'stream-stopped'), 5_000_000);
    expect(p.serverEvents).toContainEqual({ type: 'stream-reset', streamId: a, errorCode: 7 });
    expect(p.clientEvents).toContainEqual({ type: 'stream-stopped', streamId: b, errorCode: 9 });
  });
});

describe('random schedules (fast-check)', () => {
  it('loss, reordering, delay and duplication over random stream workloads never crash or corrupt data', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.nat(),
          loss: fc.double({ min: 0, max: 0.2, noNaN: true }),
          reorder: fc.double({ min: 0, max: 0.3, noNaN: true }),
          duplicate: fc.double({ min: 0, max: 0.1, noNaN: true }),
          delayMs: fc.integer({ min: 1, max: 80 }),
          jitterMs: fc.integer({ min: 0, max: 20 }),
        }),
        fc.array(fc.record({ size: fc.integer({ min: 0, max: 40_000 }), bidi: fc.boolean(), fromServer: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        (net, streams) => {
          const link = { delayUs: net.delayMs * MS, jitterUs: net.jitterMs * MS, loss: net.loss, reorder: net.reorder, duplicate: net.duplicate };
          const p = new QuicPair({ seed: net.seed, clientToServer: link, serverToClient: link });
          if (!p.handshake(120_000_000)) throw new Error('handshake did not complete');
          const plans = streams.map((s, i) => ({ ...s, data: patternBytes(s.size, i + 1), id: -1, written: 0, got: [] as Uint8Array[], fin: false }));
          const sender = (fromServer: boolean): Connection => (fromServer ? p.serverConn! : p.conn);
          const ok = p.run(
            () => plans.every((x) => x.fin),
            300_000_000,
            () => {
              for (const x of plans) {
                const tx = sender(x.fromServer);
                const rx = sender(!x.fromServer);
                if (x.id < 0) {
                  const id = tx.openStream(x.bidi);
                  if (id === undefined) continue;
                  x.id = id;
                }
                if (x.written < x.data.length || x.written === 0) {
                  const s = tx.streams.send.get(x.id);
                  if (s !== undefined && !s.finWritten) x.written += tx.streamWrite(x.id, x.data.subarray(x.written), true);
                }
                for (let r = rx.streamRead(x.id, 1 << 20, p.now); r !== null; r = rx.streamRead(x.id, 1 << 20, p.now)) {
                  x.got.push(r.data);
                  if (r.fin) x.fin = true;
                }
              }
            },
          );
          expect(ok).toBe(true);
          for (const x of plans) expect(Buffer.concat(x.got).equals(x.data)).toBe(true);
          expect(p.conn.state).toBe('established');
        },
      ),
      { numRuns: runs(60), ...seed() },
    );
  });
});
