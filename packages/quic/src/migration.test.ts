// Path validation and the server's side of migration and NAT rebinding (RFC 9000 §8.2, §9).

import { describe, expect, it } from 'vitest';
import { QuicPair, SERVER_ADDRESS, patternBytes, sendOneWay } from '@gquic/testkit';
import { choosePreferredAddress, encodePreferredAddress, ipv6Bytes } from './preferred-address.js';

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

  it('the server validates the old path after an apparent migration (§9.3.3)', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    expect(sendOneWay(p, patternBytes(50_000, 1)).done).toBe(true);
    const old = p.net.clientAddress;
    const before = p.net.serverSentTo.length;
    p.net.clientAddress = { address: '192.0.2.9', port: 40000 };
    expect(sendOneWay(p, patternBytes(100_000, 2)).done).toBe(true);
    // Datagrams to the old address after the move: the 1200-byte PATH_CHALLENGE probe.
    const toOld = p.net.serverSentTo.slice(before).filter((a) => a.address === old.address && a.port === old.port);
    expect(toOld.length).toBeGreaterThanOrEqual(1);
    expect(p.serverConn!.peerAddress).toEqual({ address: '192.0.2.9', port: 40000 });
  });
});

describe("the server's preferred address (RFC 9000 §9.6)", () => {
  const preferred = { address: '10.0.0.3', port: 4433 };

  it('the client validates it after the handshake and moves there with connection ID 1', () => {
    const p = new QuicPair({ serverTransport: { preferredAddress: { ipv4: preferred } } });
    p.net.serverAddresses.push(preferred);
    expect(p.handshake()).toBe(true);
    const r = sendOneWay(p, patternBytes(300_000, 6));
    expect(r.done).toBe(true);
    expect(r.received.equals(patternBytes(300_000, 6))).toBe(true);
    expect(p.conn.usingPreferredAddress).toBe(true);
    expect(p.conn.peerAddress).toEqual(preferred);
    expect(p.conn.peerCids.current.seq).toBe(1);
    expect(p.net.clientSentTo.at(-1)).toEqual(preferred);
    // The CID of the original path was retired (§9.5), so the server knows the client moved.
    p.run(() => p.serverConn!.localCids.issued[0]!.retired, 1_000_000);
    expect(p.serverConn!.localCids.issued[0]!.retired).toBe(true);
  });

  it('an unreachable preferred address is given up after three challenges; the connection stays put', () => {
    const p = new QuicPair({ serverTransport: { preferredAddress: { ipv4: preferred } } });
    expect(p.handshake()).toBe(true);
    const r = sendOneWay(p, patternBytes(300_000, 7));
    expect(r.done).toBe(true);
    p.run(() => false, 3_000_000);
    expect(p.conn.usingPreferredAddress).toBe(false);
    expect(p.conn.peerAddress).toEqual(SERVER_ADDRESS);
    expect(p.net.clientSentTo.filter((a) => a.port === preferred.port)).toHaveLength(3);
    expect(sendOneWay(p, patternBytes(10_000, 8)).done).toBe(true);
  });

  it('a client can decline it; the server may combine it with disable_active_migration', () => {
    const p = new QuicPair({ serverTransport: { preferredAddress: { ipv4: preferred }, disableActiveMigration: true }, clientTransport: { usePreferredAddress: false } });
    p.net.serverAddresses.push(preferred);
    expect(p.handshake()).toBe(true);
    expect(sendOneWay(p, patternBytes(50_000, 9)).done).toBe(true);
    expect(p.net.clientSentTo.some((a) => a.port === preferred.port)).toBe(false);
    const q = new QuicPair({ serverTransport: { preferredAddress: { ipv4: preferred }, disableActiveMigration: true } });
    q.net.serverAddresses.push(preferred);
    expect(q.handshake()).toBe(true);
    expect(sendOneWay(q, patternBytes(50_000, 9)).done).toBe(true);
    expect(q.conn.usingPreferredAddress).toBe(true); // §18.2: disable_active_migration does not forbid this move
  });

  it('addresses round-trip through the parameter, one per family', () => {
    const pa = encodePreferredAddress({ ipv4: { address: '192.0.2.1', port: 443 }, ipv6: { address: '2001:db8::1', port: 8443 } }, new Uint8Array(8).fill(1), new Uint8Array(16));
    expect(choosePreferredAddress(pa, { address: '198.51.100.2', port: 1 })).toEqual({ address: '192.0.2.1', port: 443 });
    expect(choosePreferredAddress(pa, { address: '::ffff:198.51.100.2', port: 1 })).toEqual({ address: '::ffff:192.0.2.1', port: 443 });
    expect(choosePreferredAddress(pa, { address: '2001:db8::7', port: 1 })).toEqual({ address: '2001:db8::1', port: 8443 });
    const v4only = encodePreferredAddress({ ipv4: { address: '192.0.2.1', port: 443 } }, new Uint8Array(8), new Uint8Array(16));
    expect(choosePreferredAddress(v4only, { address: '::1', port: 1 })).toBeUndefined();
    expect([...ipv6Bytes('::ffff:1.2.3.4')!]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]);
    expect(ipv6Bytes('1::2::3')).toBeUndefined();
    expect(ipv6Bytes('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(() => encodePreferredAddress({ ipv4: { address: 'example.com', port: 1 } }, new Uint8Array(8), new Uint8Array(16))).toThrow(RangeError);
  });
});
