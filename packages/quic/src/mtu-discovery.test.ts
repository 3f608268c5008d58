// DPLPMTUD (RFC 8899 via RFC 9000 §14.3) on the simulated network.

import { describe, expect, it } from 'vitest';
import { QuicPair, patternBytes, sendOneWay } from '@gquic/testkit';
import { MtuDiscovery } from './mtu-discovery.js';

const MS = 1000;

function transfer(p: QuicPair, n: number): boolean {
  const data = patternBytes(n, 6);
  const r = sendOneWay(p, data);
  return r.done && r.received.equals(data);
}

describe('PMTU discovery', () => {
  it('finds a 1400-byte path MTU without counting probe losses as congestion', () => {
    const link = { delayUs: 10 * MS, mtu: 1400 };
    const p = new QuicPair({ clientToServer: link, serverToClient: link });
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 1_000_000)).toBe(true);
    expect(p.conn.mtu.current).toBeGreaterThan(1400 - 20);
    expect(p.conn.mtu.current).toBeLessThanOrEqual(1400);
    expect(p.serverConn!.mtu.current).toBeGreaterThan(1400 - 20);
    expect(p.conn.stats().packetsLost).toBe(0);
    expect(p.conn.stats().congestion.phase).not.toBe('recovery');
  });

  it('reaches pmtuMax on an unconstrained path, and stays at 1200 when disabled', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 300_000)).toBe(true);
    expect(p.conn.mtu.current).toBe(1452);
    const q = new QuicPair({ transport: { pmtuDiscovery: false } });
    expect(q.handshake()).toBe(true);
    expect(transfer(q, 300_000)).toBe(true);
    expect(q.conn.mtu.current).toBe(1200);
  });

  it('falls back to 1200 on a black hole and keeps the transfer going', () => {
    const c2s = { delayUs: 10 * MS } as { delayUs: number; mtu?: number };
    const s2c = { delayUs: 10 * MS } as { delayUs: number; mtu?: number };
    const p = new QuicPair({ clientToServer: c2s, serverToClient: s2c });
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 300_000)).toBe(true);
    expect(p.conn.mtu.current).toBe(1452);
    c2s.mtu = 1300; // the route changes: large datagrams vanish
    s2c.mtu = 1300;
    expect(transfer(p, 1_000_000)).toBe(true);
    expect(p.conn.mtu.blackHoles).toBeGreaterThan(0);
    expect(p.conn.mtu.current).toBeLessThanOrEqual(1300);
  });

  it('bisects and caps the search after repeated probe loss (unit)', () => {
    const m = new MtuDiscovery(1452);
    expect(m.probeSize(0)).toBe(1452);
    m.onProbeSent(1452);
    m.onProbeLost(1452);
    expect(m.probeSize(0)).toBe(1326); // bisect between 1200 and 1452
    m.onProbeSent(1326);
    expect(m.onProbeAcked(1326, 0)).toBe(true);
    expect(m.current).toBe(1326);
    for (let i = 0; i < 3; i++) {
      const s = m.probeSize(0);
      m.onProbeSent(s);
      m.onProbeLost(s);
    }
    expect(m.probeSize(0)).toBeLessThan(1389);
  });
});
