// RFC 9287 (grease_quic_bit) and reserved transport parameters (RFC 9000 §18.1).

import { describe, expect, it } from 'vitest';
import { decodeTransportParameters, isReservedTransportParameterId } from '@gquic/wire';
import { QuicPair, patternBytes, sendOneWay } from '@gquic/testkit';

function transfer(p: QuicPair, n: number): boolean {
  return sendOneWay(p, patternBytes(n, 2)).done;
}

describe('greasing', () => {
  it('clears the QUIC bit at random once the peer advertised grease_quic_bit, and the peer accepts it', () => {
    let cleared = 0;
    let shortHeaders = 0;
    const watch = (d: Uint8Array): boolean => {
      if ((d[0]! & 0x80) === 0) {
        shortHeaders++;
        if ((d[0]! & 0x40) === 0) cleared++;
      }
      return false;
    };
    const p = new QuicPair({ clientToServer: { delayUs: 5000, drop: watch } });
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 300_000)).toBe(true);
    expect(shortHeaders).toBeGreaterThan(100);
    expect(cleared).toBeGreaterThan(shortHeaders * 0.2);
    expect(cleared).toBeLessThan(shortHeaders * 0.8);
  });

  it('keeps the QUIC bit set for a peer that did not advertise it, and drops cleared-bit packets it did not agree to', () => {
    let cleared = 0;
    const p = new QuicPair({ serverTransport: { greaseQuicBit: false }, clientToServer: { delayUs: 5000, drop: (d) => ((d[0]! & 0x40) === 0 ? (cleared++, false) : false) } });
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 100_000)).toBe(true);
    expect(cleared).toBe(0);
    // Hand the server a real 1-RTT packet with the bit cleared: it is dropped unprocessed.
    const id = p.conn.openStream(true)!;
    p.conn.streamWrite(id, new Uint8Array(50));
    const buf = new Uint8Array(1500);
    const out = p.client.send(p.now, buf)!;
    const d = buf.slice(0, out.length);
    d[0]! &= ~0x40;
    const before = p.serverConn!.stats().packetsReceived;
    p.server.recv(d, { address: '10.0.0.1', port: 40000 }, p.now);
    expect(p.serverConn!.stats().packetsReceived).toBe(before);
  });

  it('sends a reserved transport parameter that peers ignore', () => {
    const p = new QuicPair();
    const tls = p.conn.tls as unknown as { config: { transportParameters: Uint8Array } };
    const raw = tls.config.transportParameters;
    // Walk the encoded parameters (id, length, value) for a reserved id.
    const ids: number[] = [];
    for (let at = 0; at < raw.length; ) {
      const [id, a] = varint(raw, at);
      const [len, b] = varint(raw, a);
      ids.push(id);
      at = b + len;
    }
    expect(ids.some(isReservedTransportParameterId)).toBe(true);
    expect(decodeTransportParameters(raw, 'client').greaseQuicBit).toBe(true);
    expect(p.handshake()).toBe(true);
  });
});

function varint(b: Uint8Array, at: number): [number, number] {
  const len = 1 << (b[at]! >> 6);
  let v = b[at]! & 0x3f;
  for (let i = 1; i < len; i++) v = v * 256 + b[at + i]!;
  return [v, at + len];
}
