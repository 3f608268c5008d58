import { describe, expect, it } from 'vitest';
import { QUIC_V1 } from '@gquic/wire';
import { TLS_AES_128_GCM_SHA256 } from './cipher-suites.js';
import { OneRttKeys } from './key-phases.js';
import { nobleProvider } from './noble-provider.js';
import { nodeProvider } from './node-provider.js';
import { PacketKeys } from './packet-protection.js';
import type { CryptoProvider } from './provider.js';

/** A 1-RTT packet (short header, 4-byte packet number) with `payload`, sealed with `keys` and key phase `bit`. */
function seal(keys: PacketKeys, pn: number, bit: number, payload: Uint8Array): Uint8Array {
  const buf = new Uint8Array(5 + payload.length + 16);
  buf[0] = 0x43 | (bit << 2);
  new DataView(buf.buffer).setUint32(1, pn);
  buf.set(payload, 5);
  keys.protect(buf, 0, 1, 4, pn, 5 + payload.length);
  return buf;
}

/** Removes header protection (the same across phases) and returns the key phase bit. */
function unmask(keys: PacketKeys, buf: Uint8Array): number {
  keys.removeHeaderProtection(buf, 0, 1);
  return (buf[0]! >> 2) & 1;
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('1-RTT key phases with the $name provider (RFC 9001 §6)', (p) => {
  const secretA = new Uint8Array(32).fill(1);
  const secretB = new Uint8Array(32).fill(2);
  const make = (): { client: OneRttKeys; server: OneRttKeys } => ({
    client: new OneRttKeys(PacketKeys.fromSecret(p, QUIC_V1, TLS_AES_128_GCM_SHA256, secretB), PacketKeys.fromSecret(p, QUIC_V1, TLS_AES_128_GCM_SHA256, secretA)),
    server: new OneRttKeys(PacketKeys.fromSecret(p, QUIC_V1, TLS_AES_128_GCM_SHA256, secretA), PacketKeys.fromSecret(p, QUIC_V1, TLS_AES_128_GCM_SHA256, secretB)),
  });
  const payload = new TextEncoder().encode('key update test payload');

  it('an update by one side is detected and followed by the other, twice, with the header protection key unchanged', () => {
    const { client, server } = make();
    for (let round = 1; round <= 2; round++) {
      client.update(Infinity);
      expect(client.phase).toBe(round % 2);
      const pkt = seal(client.write, 100 * round, client.phase, payload);
      const bit = unmask(server.read, pkt);
      const { keys, which } = server.readKeysFor(bit, false);
      expect(which).toBe('next');
      expect(keys.open(pkt, 0, 5, pkt.length, 100 * round)).toBe(5 + payload.length);
      server.update(Infinity);
      expect(server.phase).toBe(client.phase);
      expect(server.write.secret).toEqual(client.read.secret);
      expect(server.read.hpKey).toEqual(PacketKeys.fromSecret(p, QUIC_V1, TLS_AES_128_GCM_SHA256, secretA).hpKey);
    }
    expect(client.generation).toBe(2);
  });

  it('keeps the previous read keys for reordered packets until they are discarded', () => {
    const { client, server } = make();
    const old = seal(client.write, 7, 0, payload);
    client.update(Infinity);
    server.update(1000);
    const bit = unmask(server.read, old);
    const r = server.readKeysFor(bit, true);
    expect(r.which).toBe('previous');
    expect(r.keys.open(old, 0, 5, old.length, 7)).toBe(5 + payload.length);
    expect(server.discardPrevious(999)).toBe(false);
    expect(server.discardPrevious(1000)).toBe(true);
    expect(server.readKeysFor(0, true).which).toBe('next');
  });

  it('a packet of the wrong phase does not open with the current keys', () => {
    const { client, server } = make();
    client.update(Infinity);
    const pkt = seal(client.write, 3, client.phase, payload);
    unmask(server.read, pkt);
    expect(server.read.open(pkt, 0, 5, pkt.length, 3)).toBe(-1);
  });
});
