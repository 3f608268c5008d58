import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { QuicPair } from '@gquic/testkit';
import { MIN_STATELESS_RESET, RateLimiter, buildStatelessReset, statelessResetToken } from './stateless-reset.js';

const KEY = new Uint8Array(32).fill(9);

describe('stateless reset (RFC 9000 §10.3)', () => {
  it('a restarted server resets the connection it forgot; the client stops at once', () => {
    const p = new QuicPair({ serverTransport: { statelessResetKey: KEY } });
    expect(p.handshake()).toBe(true);
    p.restartServer();
    const id = p.conn.openStream(true)!;
    p.conn.streamWrite(id, new Uint8Array(2000));
    expect(p.run(() => p.conn.isClosed, 5_000_000)).toBe(true);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ reason: 'stateless reset', byPeer: true });
    expect(p.server.statelessResetsSent).toBeGreaterThan(0);
    // Draining: the client sends nothing more.
    const sentBefore = p.net.sentBytes[0];
    p.run(() => false, 1_000_000);
    expect(p.net.sentBytes[0]).toBe(sentBefore);
  });

  it('without the same key the reset is not recognised (tokens come from the key)', () => {
    const p = new QuicPair({ serverTransport: { statelessResetKey: KEY }, transport: { idleTimeoutMs: 3000 } });
    expect(p.handshake()).toBe(true);
    p.serverConfig.transport = { ...p.serverConfig.transport, statelessResetKey: new Uint8Array(32).fill(1) };
    p.restartServer();
    const id = p.conn.openStream(true)!;
    p.conn.streamWrite(id, new Uint8Array(2000));
    p.run(() => p.conn.isClosed, 60_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ idle: true });
  });

  it('is always smaller than its trigger and never below 21 bytes (no loops), and rate-limited', () => {
    const token = statelessResetToken(nodeProvider, KEY, Uint8Array.of(1, 2, 3));
    expect(buildStatelessReset(nodeProvider, token, MIN_STATELESS_RESET)).toBeUndefined();
    const r = buildStatelessReset(nodeProvider, token, 30)!;
    expect(r.length).toBe(29);
    expect(r[0]! & 0xc0).toBe(0x40);
    expect(r.subarray(r.length - 16)).toEqual(token);
    expect(buildStatelessReset(nodeProvider, token, 1500)!.length).toBe(43);
    // Two stateless endpoints answering each other shrink to nothing.
    let size = 1200;
    let rounds = 0;
    for (let d = buildStatelessReset(nodeProvider, token, size); d !== undefined; d = buildStatelessReset(nodeProvider, token, d.length)) rounds++;
    expect(rounds).toBeLessThan(30);
    const limiter = new RateLimiter(100);
    let allowed = 0;
    for (let i = 0; i < 1000; i++) if (limiter.take(1_000_000 + i)) allowed++;
    expect(allowed).toBe(100);
    void size;
  });
});
