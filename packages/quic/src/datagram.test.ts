// RFC 9221 DATAGRAM on the simulated network.

import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '@gquic/wire';
import { QuicPair } from '@gquic/testkit';

const MS = 1000;
const tag = (i: number, n = 100): Uint8Array => {
  const d = new Uint8Array(n);
  new DataView(d.buffer).setUint32(0, i);
  return d;
};
const idOf = (d: Uint8Array): number => new DataView(d.buffer, d.byteOffset).getUint32(0);

function drain(p: QuicPair): { atServer: number[]; atClient: number[] } {
  const atServer: number[] = [];
  const atClient: number[] = [];
  const take = (): void => {
    for (let d = p.serverConn?.readDatagram(); d !== undefined; d = p.serverConn?.readDatagram()) atServer.push(idOf(d));
    for (let d = p.conn.readDatagram(); d !== undefined; d = p.conn.readDatagram()) atClient.push(idOf(d));
  };
  p.run(() => false, 3_000_000, take);
  take();
  return { atServer, atClient };
}

describe('DATAGRAM (RFC 9221)', () => {
  it('carries datagrams both ways up to the size that fits in a packet', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    const max = p.conn.maxDatagramPayload;
    expect(max).toBeGreaterThan(1100);
    expect(() => p.conn.sendDatagram(new Uint8Array(max + 1))).toThrow(RangeError);
    for (let i = 0; i < 100; i++) {
      p.conn.sendDatagram(tag(i, i === 0 ? max : 100));
      p.serverConn!.sendDatagram(tag(1000 + i));
    }
    const { atServer, atClient } = drain(p);
    expect(atServer).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(atClient).toEqual(Array.from({ length: 100 }, (_, i) => 1000 + i));
    expect(p.serverEvents.filter((e) => e.type === 'datagrams-readable').length).toBeGreaterThan(0);
  });

  it('never retransmits a lost datagram', () => {
    const p = new QuicPair({ seed: 3, clientToServer: { delayUs: 10 * MS, loss: 0.2 }, serverToClient: { delayUs: 10 * MS } });
    expect(p.handshake(20_000_000)).toBe(true);
    const sent = 500;
    let next = 0;
    const got: number[] = [];
    p.run(
      () => false,
      5_000_000,
      () => {
        if (next < sent) p.conn.sendDatagram(tag(next++));
        for (let d = p.serverConn?.readDatagram(); d !== undefined; d = p.serverConn?.readDatagram()) got.push(idOf(d));
      },
    );
    expect(new Set(got).size).toBe(got.length); // no duplicates
    expect(got.length).toBeLessThan(sent * 0.9); // the lost ones stay lost
    expect(got.length).toBeGreaterThan(sent * 0.6);
    expect(got.every((x, i) => i === 0 || x > got[i - 1]!)).toBe(true);
  });

  it('drops the oldest when the send queue is full', () => {
    const p = new QuicPair({ transport: { datagramSendQueue: 10 } });
    expect(p.handshake()).toBe(true);
    for (let i = 0; i < 25; i++) p.conn.sendDatagram(tag(i));
    expect(p.conn.datagramsDropped).toBe(15);
    expect(drain(p).atServer).toEqual(Array.from({ length: 10 }, (_, i) => 15 + i));
  });

  it('is refused when the peer did not advertise support; a peer that sends anyway gets PROTOCOL_VIOLATION', () => {
    const p = new QuicPair({ serverTransport: { maxDatagramFrameSize: 0 } });
    expect(p.handshake()).toBe(true);
    expect(p.conn.maxDatagramPayload).toBe(0);
    expect(() => p.conn.sendDatagram(new Uint8Array(10))).toThrow(/does not accept/);
    // Misbehave: pretend the server allowed DATAGRAM.
    p.conn.peerParams!.maxDatagramFrameSize = 1200;
    p.conn.sendDatagram(new Uint8Array(10));
    p.run(() => p.clientEvents.some((e) => e.type === 'closed'), 5_000_000);
    expect(p.clientEvents.find((e) => e.type === 'closed')).toMatchObject({ byPeer: true, errorCode: TransportErrorCode.PROTOCOL_VIOLATION });
  });
});
