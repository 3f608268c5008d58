// Hostile datagrams: whatever arrives, the endpoint and its connections never throw, and an established
// connection survives garbage that does not authenticate.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLIENT_ADDRESS, QuicPair, runs, seed } from '@gquic/testkit';

describe('robustness against hostile datagrams (fast-check)', () => {
  it('random bytes, and mutations of real packets, never throw and never break an established connection', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    // Capture some real datagrams from client to server to mutate.
    const real: Uint8Array[] = [];
    const id = p.conn.openStream(true)!;
    p.conn.streamWrite(id, new Uint8Array(5000), false);
    const buf = new Uint8Array(2048);
    for (let d = p.client.send(p.now, buf); d !== null; d = p.client.send(p.now, buf)) real.push(buf.slice(0, d.length));
    expect(real.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: 0, maxLength: 1500 }),
          fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([which, at, x]) => {
            const d = real[which % real.length]!.slice();
            d[at % d.length]! ^= x;
            return d;
          }),
          fc.tuple(fc.nat(), fc.nat()).map(([which, cut]) => real[which % real.length]!.slice(0, cut % real[which % real.length]!.length)),
        ),
        (d) => {
          p.server.recv(d.slice(), CLIENT_ADDRESS, p.now);
          p.server.handleTimeout(p.now);
          const out = new Uint8Array(2048);
          for (let i = 0; i < 10 && p.server.send(p.now, out) !== null; i++);
        },
      ),
      { numRuns: runs(3000), ...seed() },
    );
    // Still alive: the original stream data gets through.
    expect(p.serverConn!.state).toBe('established');
    let got = 0;
    p.conn.streamFinish(id);
    const ok = p.run(
      () => got === 5000,
      10_000_000,
      () => {
        for (let r = p.serverConn!.streamRead(id, 1 << 20, p.now); r !== null; r = p.serverConn!.streamRead(id, 1 << 20, p.now)) got += r.data.length;
      },
    );
    expect(ok).toBe(true);
  });

  it('random Initial-looking datagrams to a server endpoint never throw and leave no connection state', () => {
    const p = new QuicPair();
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1200, maxLength: 1400 }), fc.integer({ min: 8, max: 20 }), (body, dcidLen) => {
        const d = body.slice();
        d[0] = 0xc0 | (d[0]! & 0x0f); // long header, Initial
        d.set([0, 0, 0, 1], 1); // QUIC v1
        d[5] = dcidLen;
        p.server.recv(d, CLIENT_ADDRESS, p.now);
      }),
      { numRuns: runs(500), ...seed() },
    );
    // Only the real client's connection exists: Initials that do not authenticate leave no state behind.
    expect(p.server.connectionCount).toBeLessThanOrEqual(1);
  });
});

describe('an internal failure while sending', () => {
  it('closes that connection with INTERNAL_ERROR instead of throwing out of the endpoint', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    const conn = p.serverConn!;
    const original = conn.pollTransmit.bind(conn);
    let thrown = 0;
    conn.pollTransmit = (now: number, out: Uint8Array): number => {
      if (thrown++ === 0) throw new RangeError('simulated bug');
      return original(now, out);
    };
    conn.streamWrite(conn.openStream(true)!, new Uint8Array(100), true);
    expect(() => p.run(() => p.conn.isClosed, 2_000_000)).not.toThrow();
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ errorCode: 0x01, byPeer: true });
  });
});
