// Address validation (RFC 9000 §8.1): server Retry, NEW_TOKEN, invalid tokens.

import { describe, expect, it } from 'vitest';
import { QUIC_V2, TransportErrorCode } from '@gquic/wire';
import { QuicPair } from '@gquic/testkit';

const KEY = new Uint8Array(32).fill(3);
const MS = 1000;

describe('address validation', () => {
  it('a server in Retry mode validates the client with a Retry first; the handshake then completes unthrottled', () => {
    let retries = 0;
    const p = new QuicPair({ server: { retry: true, tokenKey: KEY }, serverToClient: { delayUs: 10 * MS, drop: (d) => (((d[0]! & 0xf0) === 0xf0 ? retries++ : 0), false) } });
    expect(p.handshake()).toBe(true);
    expect(p.server.retriesSent).toBe(1);
    expect(retries).toBe(1); // a v1 Retry has type bits 11
    const c = p.conn as unknown as { retryScid?: Uint8Array };
    expect(c.retryScid).toBeDefined();
  });

  it('hands out a NEW_TOKEN that lets the next connection skip the Retry', () => {
    const first = new QuicPair({ server: { retry: true, tokenKey: KEY } });
    expect(first.handshake()).toBe(true);
    first.run(() => first.clientEvents.some((e) => e.type === 'new-token'), 2_000_000);
    const ev = first.clientEvents.find((e) => e.type === 'new-token');
    expect(ev).toBeDefined();
    const token = (ev as { token: Uint8Array }).token;
    const second = new QuicPair({ server: { retry: true, tokenKey: KEY }, client: { addressToken: token } });
    expect(second.handshake()).toBe(true);
    expect(second.server.retriesSent).toBe(0);
    // A token from another server key is ignored: the server falls back to a Retry.
    const third = new QuicPair({ server: { retry: true, tokenKey: new Uint8Array(32).fill(4) }, client: { addressToken: token } });
    expect(third.handshake()).toBe(true);
    expect(third.server.retriesSent).toBe(1);
    // RFC 9369 §5: a token from a v1 connection does not validate a v2 one.
    const v2 = new QuicPair({ server: { retry: true, tokenKey: KEY }, client: { addressToken: token }, clientTransport: { version: QUIC_V2, versions: [QUIC_V2] } });
    expect(v2.handshake()).toBe(true);
    expect(v2.server.retriesSent).toBe(1);
  });

  it('an expired Retry token ends the attempt with INVALID_TOKEN', () => {
    // 6 s one way: the client's second Initial arrives after the 10 s Retry token lifetime.
    const p = new QuicPair({ server: { retry: true, tokenKey: KEY }, clientToServer: { delayUs: 6_000_000 }, serverToClient: { delayUs: 6_000_000 }, transport: { idleTimeoutMs: 60_000 } });
    p.run(() => p.conn.isClosed, 60_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ byPeer: true, errorCode: TransportErrorCode.INVALID_TOKEN });
  });
});
