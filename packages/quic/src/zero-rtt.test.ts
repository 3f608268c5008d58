// Resumption and 0-RTT through the transport (RFC 9000 §7.4.1, RFC 9001 §4.6).

import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { AntiReplay, TicketKeyRing, type ClientSession } from '@gquic/tls';
import { QuicPair, patternBytes, type QuicPairOptions } from '@gquic/testkit';

const ticketKeys = new TicketKeyRing(nodeProvider);
const MS = 1000;

function serverTls(extra: { acceptEarlyData?: () => boolean; antiReplay?: AntiReplay } = {}): NonNullable<QuicPairOptions['serverTls']> {
  return { ticketKeys, antiReplay: extra.antiReplay ?? new AntiReplay(), earlyData: true, ...(extra.acceptEarlyData ? { acceptEarlyData: extra.acceptEarlyData } : {}) };
}

function firstSession(): ClientSession {
  const p = new QuicPair({ serverTls: serverTls() });
  expect(p.handshake()).toBe(true);
  p.run(() => p.clientEvents.some((e) => e.type === 'session-ticket'), 2_000_000);
  const ev = p.clientEvents.find((e) => e.type === 'session-ticket');
  if (ev?.type !== 'session-ticket') throw new Error('no ticket');
  return ev.session;
}

/** Second connection with the session: writes `n` bytes right away (before the handshake), returns what arrived. */
function earlyTransfer(p: QuicPair, n: number): { ok: boolean; zeroRttPackets: number; serverGotDataBeforeHandshake: boolean } {
  const data = patternBytes(n, 9);
  const id = p.conn.openStream(true)!;
  let written = p.conn.streamWrite(id, data, true);
  let got = 0;
  let before = false;
  const ok = p.run(
    () => got === n,
    20_000_000,
    () => {
      if (written < n) written += p.conn.streamWrite(id, data.subarray(written), true);
      const s = p.serverConn;
      if (s === undefined) return;
      for (let r = s.streamRead(id, 1 << 20, p.now); r !== null; r = s.streamRead(id, 1 << 20, p.now)) {
        if (!s.handshakeComplete && r.data.length > 0) before = true;
        got += r.data.length;
      }
    },
  );
  // The data may all arrive as 0-RTT before the client even hears the server's decision: finish the handshake.
  p.run(() => p.conn.handshakeComplete, 5_000_000);
  return { ok, zeroRttPackets: (p as unknown as { zeroRtt: number }).zeroRtt, serverGotDataBeforeHandshake: before };
}

function counting(session: ClientSession, extra: Parameters<typeof serverTls>[0] = {}): QuicPair {
  const counter = { n: 0 };
  // v1 0-RTT long headers have type bits 01: first byte 0b1101xxxx (0xd0-0xdf).
  const watch = (d: Uint8Array): boolean => {
    if ((d[0]! & 0xf0) === 0xd0) counter.n++;
    return false;
  };
  // A second later than the ticket arrived (virtual clocks of separate pairs start at the same instant).
  const startUs = session.receivedAt * 1000 + 1_000_000;
  const p = new QuicPair({ startUs, serverTls: serverTls(extra), clientTls: { session, earlyData: true }, clientToServer: { delayUs: 20 * MS, drop: watch } });
  Object.defineProperty(p, 'zeroRtt', { get: () => counter.n });
  return p;
}

describe('0-RTT', () => {
  it('sends stream data as 0-RTT on resumption; the server reads it before the handshake completes', () => {
    const session = firstSession();
    expect(session.maxEarlyData).toBe(0xffffffff);
    const p = counting(session);
    const r = earlyTransfer(p, 20_000);
    expect(r.ok).toBe(true);
    expect(r.zeroRttPackets).toBeGreaterThan(0);
    expect(r.serverGotDataBeforeHandshake).toBe(true);
    expect(p.conn.earlyDataAccepted).toBe(true);
  });

  it('resends everything as 1-RTT when the server rejects 0-RTT', () => {
    const session = firstSession();
    const p = counting(session, { acceptEarlyData: () => false });
    const r = earlyTransfer(p, 50_000);
    expect(r.ok).toBe(true);
    expect(r.zeroRttPackets).toBeGreaterThan(0);
    expect(r.serverGotDataBeforeHandshake).toBe(false);
    expect(p.conn.earlyDataAccepted).toBe(false);
  });

  it('a replayed ticket gets no 0-RTT, but the connection works', () => {
    const session = firstSession();
    const antiReplay = new AntiReplay();
    const a = counting(session, { antiReplay });
    expect(earlyTransfer(a, 5_000).ok).toBe(true);
    expect(a.conn.earlyDataAccepted).toBe(true);
    const b = counting(session, { antiReplay });
    expect(earlyTransfer(b, 5_000).ok).toBe(true);
    expect(b.conn.earlyDataAccepted).toBe(false);
  });
});
