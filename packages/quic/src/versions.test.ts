// QUIC v2 (RFC 9369) as a second version, Version Negotiation (RFC 9000 §6) and downgrade detection (RFC 9368 §4).

import { describe, expect, it } from 'vitest';
import { BufferWriter, QUIC_V1, QUIC_V2, TransportErrorCode, writeVersionNegotiation } from '@gquic/wire';
import { QuicPair, SERVER_ADDRESS, patternBytes } from '@gquic/testkit';

function versionsOnWire(p: QuicPair): Set<number> {
  return (p as unknown as { seen: Set<number> }).seen;
}

function watched(opts: ConstructorParameters<typeof QuicPair>[0] = {}): QuicPair {
  const seen = new Set<number>();
  const watch = (d: Uint8Array): boolean => {
    if ((d[0]! & 0x80) !== 0) seen.add(new DataView(d.buffer, d.byteOffset).getUint32(1));
    return false;
  };
  const p = new QuicPair({ ...opts, clientToServer: { delayUs: 10_000, drop: watch }, serverToClient: { delayUs: 10_000, drop: watch } });
  (p as unknown as { seen: Set<number> }).seen = seen;
  return p;
}

function echo(p: QuicPair, n: number): boolean {
  const id = p.conn.openStream(true)!;
  const data = patternBytes(n, 4);
  let written = 0;
  let got = 0;
  return p.run(
    () => got === n,
    20_000_000,
    () => {
      if (written < n) written += p.conn.streamWrite(id, data.subarray(written), true);
      for (let r = p.serverConn?.streamRead(id, 1 << 20, p.now) ?? null; r !== null; r = p.serverConn!.streamRead(id, 1 << 20, p.now)) got += r.data.length;
    },
  );
}

describe('versions', () => {
  it('QUIC v2 works end to end, with v2 on the wire', () => {
    const p = watched({ clientTransport: { version: QUIC_V2 } });
    expect(p.handshake()).toBe(true);
    expect(echo(p, 200_000)).toBe(true);
    expect([...versionsOnWire(p)]).toEqual([QUIC_V2]);
    expect(p.serverConn!.transport.version).toBe(QUIC_V2);
  });

  it('a server without v2 answers with Version Negotiation and the client moves to v1', () => {
    const p = watched({ clientTransport: { version: QUIC_V2, versions: [QUIC_V2, QUIC_V1] }, serverTransport: { versions: [QUIC_V1] } });
    expect(p.handshake()).toBe(true);
    expect(p.conn.transport.version).toBe(QUIC_V1);
    expect(versionsOnWire(p).has(0)).toBe(true); // a Version Negotiation packet crossed
    expect(echo(p, 50_000)).toBe(true);
  });

  it('gives up when there is no common version', () => {
    const p = new QuicPair({ clientTransport: { version: QUIC_V2, versions: [QUIC_V2] }, serverTransport: { versions: [QUIC_V1] } });
    p.run(() => p.conn.isClosed, 5_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ errorCode: TransportErrorCode.VERSION_NEGOTIATION_ERROR });
  });

  it('detects a downgrade by a forged Version Negotiation packet (VERSION_NEGOTIATION_ERROR)', () => {
    const p = new QuicPair({ clientTransport: { version: QUIC_V2, versions: [QUIC_V2, QUIC_V1] } });
    // An attacker answers the client's first Initial with a VN offering only v1, though the server has v2.
    const vn = new Uint8Array(7 + 8 + p.conn.originalDestinationCid.length + 4);
    writeVersionNegotiation(new BufferWriter(vn), p.conn.localCids.issued[0]!.cid, p.conn.originalDestinationCid, [QUIC_V1]);
    p.client.recv(vn, SERVER_ADDRESS, p.now);
    expect(p.conn.transport.version).toBe(QUIC_V1);
    p.run(() => p.conn.isClosed || p.conn.handshakeComplete, 5_000_000);
    expect(p.conn.handshakeComplete).toBe(false);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ errorCode: TransportErrorCode.VERSION_NEGOTIATION_ERROR });
  });

  it('ignores a Version Negotiation packet that lists the version in use', () => {
    const p = new QuicPair();
    const vn = new Uint8Array(7 + 8 + p.conn.originalDestinationCid.length + 8);
    writeVersionNegotiation(new BufferWriter(vn), p.conn.localCids.issued[0]!.cid, p.conn.originalDestinationCid, [QUIC_V2, QUIC_V1]);
    p.client.recv(vn, SERVER_ADDRESS, p.now);
    expect(p.conn.transport.version).toBe(QUIC_V1);
    expect(p.handshake()).toBe(true);
  });
});
