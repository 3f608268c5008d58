// QUIC v2 (RFC 9369) as a second version, Version Negotiation (RFC 9000 §6) and downgrade detection (RFC 9368 §4).

import { describe, expect, it } from 'vitest';
import { BufferWriter, QUIC_V1, QUIC_V2, TransportErrorCode, decodeTransportParameters, encodeTransportParameters, writeVersionNegotiation } from '@gquic/wire';
import { nodeProvider } from '@gquic/crypto';
import { AntiReplay, TicketKeyRing, type ClientSession } from '@gquic/tls';
import { QuicPair, SERVER_ADDRESS, patternBytes, seededRandom } from '@gquic/testkit';

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
    // The client lists only v2, so no compatible negotiation can move it (RFC 9368 §2.3).
    const p = watched({ clientTransport: { version: QUIC_V2, versions: [QUIC_V2] } });
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

describe('compatible version negotiation (RFC 9368 §2.3, RFC 9369 §4)', () => {
  const v2First = { versions: [QUIC_V2, QUIC_V1] };

  it('a v1 first flight is converted to v2 by a server preferring v2; the handshake completes in v2', () => {
    const p = watched({ clientTransport: { version: QUIC_V1, versions: [QUIC_V1, QUIC_V2] }, serverTransport: v2First });
    expect(p.handshake()).toBe(true);
    expect(p.conn.transport.version).toBe(QUIC_V2);
    expect(p.serverConn!.transport.version).toBe(QUIC_V2);
    // One round trip: no Version Negotiation packet, v1 only in the client's first Initials.
    expect(versionsOnWire(p)).toEqual(new Set([QUIC_V1, QUIC_V2]));
    expect(echo(p, 200_000)).toBe(true);
  });

  it('stays in v1 when the client offers only v1, or when the server prefers v1', () => {
    const a = watched({ clientTransport: { version: QUIC_V1, versions: [QUIC_V1] }, serverTransport: v2First });
    expect(a.handshake()).toBe(true);
    expect(a.conn.transport.version).toBe(QUIC_V1);
    expect([...versionsOnWire(a)]).toEqual([QUIC_V1]);
    const b = watched({ clientTransport: { version: QUIC_V1, versions: [QUIC_V1, QUIC_V2] }, serverTransport: { versions: [QUIC_V1, QUIC_V2] } });
    expect(b.handshake()).toBe(true);
    expect([...versionsOnWire(b)]).toEqual([QUIC_V1]);
  });

  it('completes under loss of either side\'s packets, with Retry, and from v2 to v1', () => {
    for (let seed = 1; seed <= 6; seed++) {
      const rnd = seededRandom(seed);
      const lossy = { delayUs: 10_000, drop: () => rnd() < 0.25 };
      const p = new QuicPair({ clientTransport: { version: QUIC_V1 }, serverTransport: v2First, clientToServer: lossy, serverToClient: lossy, ...(seed % 2 === 0 ? { server: { retry: true } } : {}) });
      expect(p.handshake(30_000_000), `seed ${seed}`).toBe(true);
      expect(p.conn.transport.version).toBe(QUIC_V2);
      expect(echo(p, 30_000)).toBe(true);
    }
    const back = new QuicPair({ clientTransport: { version: QUIC_V2, versions: [QUIC_V2, QUIC_V1] }, serverTransport: { versions: [QUIC_V1, QUIC_V2] } });
    expect(back.handshake()).toBe(true);
    expect(back.conn.transport.version).toBe(QUIC_V1);
  });

  it('a client that did not offer the version ignores server packets in it', () => {
    // The server would pick v2, but the client offers only v1: the server stays in v1 (its Chosen Version).
    const p = watched({ clientTransport: { version: QUIC_V1, versions: [QUIC_V1] }, serverTransport: { versions: [QUIC_V2, QUIC_V1] } });
    expect(p.handshake()).toBe(true);
    expect(p.serverConn!.transport.version).toBe(QUIC_V1);
  });

  it('tickets are version-specific (RFC 9369 §5): a v2 ticket resumes v2 but is not offered on a v1 connection', () => {
    const ticketKeys = new TicketKeyRing(nodeProvider);
    const serverTls = { ticketKeys, antiReplay: new AntiReplay(), earlyData: true };
    const first = new QuicPair({ clientTransport: { version: QUIC_V1 }, serverTransport: v2First, serverTls });
    expect(first.handshake()).toBe(true);
    first.run(() => first.clientEvents.some((e) => e.type === 'session-ticket'), 2_000_000);
    const ev = first.clientEvents.find((e) => e.type === 'session-ticket');
    const session = (ev as { session: ClientSession }).session;
    const resumed = (version: number): boolean | undefined => {
      const p = new QuicPair({ startUs: session.receivedAt * 1000 + 1_000_000, clientTransport: { version, versions: [version] }, serverTransport: v2First, serverTls, clientTls: { session } });
      expect(p.handshake()).toBe(true);
      const done = p.clientEvents.find((e) => e.type === 'handshake-done');
      return (done as { resumed?: boolean } | undefined)?.resumed;
    };
    expect(resumed(QUIC_V2)).toBe(true);
    expect(resumed(QUIC_V1)).toBe(false);
    // A client that offers the v2 ticket on a v1 connection anyway (its remembered parameters doctored to say v1):
    // the server refuses it and does a full handshake.
    const tp = decodeTransportParameters(session.transportParameters, 'server');
    tp.versionInformation = { chosenVersion: QUIC_V1, availableVersions: [QUIC_V1] };
    const forged = { ...session, transportParameters: encodeTransportParameters(tp) };
    const p = new QuicPair({ startUs: session.receivedAt * 1000 + 1_000_000, clientTransport: { version: QUIC_V1, versions: [QUIC_V1] }, serverTransport: v2First, serverTls, clientTls: { session: forged } });
    expect(p.handshake()).toBe(true);
    expect(p.clientEvents.find((e) => e.type === 'handshake-done')).toMatchObject({ resumed: false });
  });
});
