// Path validation and the server's side of migration and NAT rebinding (RFC 9000 §8.2, §9).

import { describe, expect, it } from 'vitest';
import { QuicPair, patternBytes, sendOneWay } from '@gquic/testkit';

describe('paths', () => {
  it('NAT rebinding: the server follows a new client port after validating it, keeping congestion state', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    expect(sendOneWay(p, patternBytes(200_000, 1)).done).toBe(true);
    const cwnd = p.serverConn!.stats().cwnd;
    p.net.clientAddress = { address: '10.0.0.1', port: 50123 };
    const r = sendOneWay(p, patternBytes(300_000, 2));
    expect(r.done).toBe(true);
    expect(r.received.equals(patternBytes(300_000, 2))).toBe(true);
    expect(p.serverConn!.migrations).toBe(1);
    expect(p.serverConn!.peerAddress).toEqual({ address: '10.0.0.1', port: 50123 });
    expect(p.net.serverSentTo.at(-1)).toEqual({ address: '10.0.0.1', port: 50123 });
    // Port-only change (§9.4): the congestion window was not reset to the minimum.
    expect(p.serverConn!.stats().cwnd).toBeGreaterThanOrEqual(Math.min(cwnd, 12_000));
    const validated = (p.serverConn as unknown as { path: { validated: boolean } }).path.validated;
    expect(validated).toBe(true);
  });

  it('a new IP address resets congestion control and RTT; sending there is amplification-limited until validated', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    expect(sendOneWay(p, patternBytes(500_000, 1)).done).toBe(true);
    p.net.clientAddress = { address: '192.0.2.7', port: 40000 };
    type Path = { validated: boolean; sent: number; received: number };
    const path = (): Path => (p.serverConn as unknown as { path: Path }).path;
    let checked = 0;
    let resetSeen = false;
    const r = sendOneWay(p, patternBytes(100_000, 3), {
      during: () => {
        if (p.serverConn!.migrations === 1 && !resetSeen) {
          resetSeen = true;
          // §9.4: a new path starts from the initial window, in slow start, with a fresh RTT estimate.
          expect(p.serverConn!.stats().cwnd).toBe(Math.min(10 * p.serverConn!.mtu.current, Math.max(14_720, 2 * p.serverConn!.mtu.current)));
          expect(p.serverConn!.stats().congestion.phase).toBe('slow_start');
        }
        if (p.serverConn!.migrations === 1 && !path().validated) {
          expect(path().sent).toBeLessThanOrEqual(3 * path().received);
          checked++;
        }
      },
    });
    expect(r.done).toBe(true);
    expect(resetSeen).toBe(true);
    expect(checked).toBeGreaterThan(0);
    expect(p.serverConn!.migrations).toBe(1);
    expect(p.serverConn!.peerAddress).toEqual({ address: '192.0.2.7', port: 40000 });
  });

  it('answers PATH_CHALLENGE with PATH_RESPONSE (a path validated by the client side too)', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    // The server challenges after a rebinding; the client must answer for the validation to complete.
    p.net.clientAddress = { address: '10.0.0.1', port: 50999 };
    sendOneWay(p, patternBytes(10_000, 4));
    p.run(() => (p.serverConn as unknown as { path: { validated: boolean } }).path.validated, 5_000_000);
    expect((p.serverConn as unknown as { path: { validated: boolean } }).path.validated).toBe(true);
  });

  it('client migration: a new local address, a new connection ID, the path validated; the server follows', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    expect(sendOneWay(p, patternBytes(100_000, 1)).done).toBe(true);
    p.conn.migrate(p.now);
    p.net.clientAddress = { address: '10.0.0.9', port: 40001 };
    const r = sendOneWay(p, patternBytes(300_000, 5));
    expect(r.done).toBe(true);
    expect(r.received.equals(patternBytes(300_000, 5))).toBe(true);
    expect(p.conn.peerCids.current.seq).toBeGreaterThan(0);
    expect(p.serverConn!.localCids.issued[0]!.retired).toBe(true);
    expect(p.serverConn!.peerAddress).toEqual({ address: '10.0.0.9', port: 40001 });
    expect((p.conn as unknown as { path: { validated: boolean } }).path.validated).toBe(true);
  });

  it('honours disable_active_migration', () => {
    const p = new QuicPair({ serverTransport: { disableActiveMigration: true } });
    expect(p.handshake()).toBe(true);
    expect(() => p.conn.migrate(p.now)).toThrow(/disable_active_migration/);
  });
});
