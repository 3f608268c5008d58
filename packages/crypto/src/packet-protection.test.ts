import { describe, expect, it } from 'vitest';
import {
  RFC9001_CLIENT_INITIAL,
  RFC9001_SERVER_INITIAL,
  RFC9369_CLIENT_INITIAL,
  RFC9369_SERVER_INITIAL,
} from '@gquic/testkit';
import { PacketHeader, QUIC_V1, QUIC_V2, fromHex, parsePacketHeader, readPacketNumber, retryPseudoPacket, toHex, decodePacketNumber } from '@gquic/wire';
import { TLS_CHACHA20_POLY1305_SHA256 } from './cipher-suites.js';
import { hkdfExpandLabel, hkdfLabel } from './hkdf-label.js';
import { nobleProvider } from './noble-provider.js';
import { nodeProvider } from './node-provider.js';
import { PacketKeys, initialSecrets, retryIntegrityTag } from './packet-protection.js';
import type { CryptoProvider } from './provider.js';

const DCID = fromHex('8394c8f03e515708');

interface VersionVectors {
  name: string;
  version: number;
  initialSecret: string;
  client: { secret: string; key: string; iv: string; hp: string };
  server: { secret: string; key: string; iv: string; hp: string };
  clientInitial: { header: string; payload: string; protected: string };
  serverInitial: { header: string; payload: string; protected: string };
  retry: string;
  chacha: { key: string; iv: string; hp: string; ku: string; header: string; packet: string };
  keyLabel: string;
}

const VECTORS: VersionVectors[] = [
  {
    name: 'QUIC v1 (RFC 9001 Appendix A)',
    version: QUIC_V1,
    keyLabel: 'quic key',
    initialSecret: '7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44',
    client: {
      secret: 'c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea',
      key: '1f369613dd76d5467730efcbe3b1a22d',
      iv: 'fa044b2f42a3fd3b46fb255c',
      hp: '9f50449e04a0e810283a1e9933adedd2',
    },
    server: {
      secret: '3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b',
      key: 'cf3a5331653c364c88f0f379b6067e37',
      iv: '0ac1493ca1905853b0bba03e',
      hp: 'c206b8d9b9f0f37644430b490eeaa314',
    },
    clientInitial: RFC9001_CLIENT_INITIAL,
    serverInitial: RFC9001_SERVER_INITIAL,
    retry: 'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba',
    chacha: {
      key: 'c6d98ff3441c3fe1b2182094f69caa2ed4b716b65488960a7a984979fb23e1c8',
      iv: 'e0459b3474bdd0e44a41c144',
      hp: '25a282b9e82f06f21f488917a4fc8f1b73573685608597d0efcb076b0ab7a7a4',
      ku: '1223504755036d556342ee9361d253421a826c9ecdf3c7148684b36b714881f9',
      header: '4200bff4',
      packet: '4cfe4189655e5cd55c41f69080575d7999c25a5bfb',
    },
  },
  {
    name: 'QUIC v2 (RFC 9369 Appendix A)',
    version: QUIC_V2,
    keyLabel: 'quicv2 key',
    initialSecret: '2062e8b3cd8d52092614b8071d0aa1fb7c2e3ac193f78b280e72d8f5751f6aba',
    client: {
      secret: '14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b',
      key: '8b1a0bc121284290a29e0971b5cd045d',
      iv: '91f73e2351d8fa91660e909f',
      hp: '45b95e15235d6f45a6b19cbcb0294ba9',
    },
    server: {
      secret: '0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1',
      key: '82db637861d55e1d011f19ea71d5d2a7',
      iv: 'dd13c276499c0249d3310652',
      hp: 'edf6d05c83121201b436e16877593c3a',
    },
    clientInitial: RFC9369_CLIENT_INITIAL,
    serverInitial: RFC9369_SERVER_INITIAL,
    retry: 'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6',
    chacha: {
      key: '3bfcddd72bcf02541d7fa0dd1f5f9eeea817e09a6963a0e6c7df0f9a1bab90f2',
      iv: 'a6b5bc6ab7dafce30ffff5dd',
      hp: 'd659760d2ba434a226fd37b35c69e2da8211d10c4f12538787d65645d5d1b8e2',
      ku: 'c69374c49e3d2a9466fa689e49d476db5d0dfbc87d32ceeaa6343fd0ae4c7d88',
      header: '4200bff4',
      packet: '5558b1c60ae7b6b932bc27d786f4bc2bb20f2162ba',
    },
  },
];

const CHACHA_SECRET = fromHex('9ac312a7f877468ebe69422748ad00a15443f18203a07d6060f688f30f21632b');

/** Builds the unprotected packet (header + payload, padded as the RFC says) with room for the tag. */
function unprotected(v: { header: string; payload: string }, payloadLength: number): { buf: Uint8Array; headerLength: number; payloadEnd: number } {
  const header = fromHex(v.header);
  const payload = fromHex(v.payload);
  const buf = new Uint8Array(header.length + payloadLength + 16);
  buf.set(header);
  buf.set(payload, header.length);
  return { buf, headerLength: header.length, payloadEnd: header.length + payloadLength };
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('packet protection with the $name provider', (p) => {
  it('labels HKDF-Expand-Label inputs as RFC 9001 A.1 shows', () => {
    expect(toHex(hkdfLabel('client in', new Uint8Array(0), 32))).toBe('00200f746c73313320636c69656e7420696e00');
    expect(toHex(hkdfLabel('quicv2 key', new Uint8Array(0), 16))).toBe('001010746c73313320717569637632206b657900');
  });

  describe.each(VECTORS)('$name', (v) => {
    it('derives the Initial secrets, keys, IVs and header protection keys', () => {
      const s = initialSecrets(p, v.version, DCID);
      expect(toHex(s.client)).toBe(v.client.secret);
      expect(toHex(s.server)).toBe(v.server.secret);
      for (const [secret, want] of [
        [s.client, v.client],
        [s.server, v.server],
      ] as const) {
        expect(toHex(hkdfExpandLabel(p, 'sha256', secret, v.keyLabel, new Uint8Array(0), 16))).toBe(want.key);
        const keys = PacketKeys.fromSecret(p, v.version, PacketKeys.initial(p, v.version, DCID).client.suite, secret);
        expect(toHex(keys.iv)).toBe(want.iv);
        expect(toHex(keys.hpKey)).toBe(want.hp);
      }
    });

    it('protects the client Initial byte-exact and opens it again', () => {
      const keys = PacketKeys.initial(p, v.version, DCID);
      const { buf, headerLength, payloadEnd } = unprotected(v.clientInitial, 1162);
      const plaintext = buf.slice(0, payloadEnd);
      const end = keys.client.protect(buf, 0, headerLength - 4, 4, 2, payloadEnd);
      expect(end).toBe(1200);
      expect(toHex(buf)).toBe(v.clientInitial.protected);
      // The server's view: parse, remove header protection, decode the packet number, decrypt.
      const h = parsePacketHeader(buf, 0, 0, new PacketHeader());
      const server = PacketKeys.initial(p, v.version, h.dcid.slice());
      expect(server.client.removeHeaderProtection(buf, 0, h.pnOffset)).toBe(4);
      readPacketNumber(h);
      const pn = decodePacketNumber(-1, h.truncatedPn, h.pnLength);
      expect(pn).toBe(2);
      expect(server.client.open(buf, 0, h.payloadOffset, h.end, pn)).toBe(payloadEnd);
      expect(toHex(buf.subarray(0, payloadEnd))).toBe(toHex(plaintext));
    });

    it('protects the server Initial byte-exact', () => {
      const keys = PacketKeys.initial(p, v.version, DCID);
      const payloadLength = fromHex(v.serverInitial.payload).length;
      const { buf, headerLength, payloadEnd } = unprotected(v.serverInitial, payloadLength);
      keys.server.protect(buf, 0, headerLength - 2, 2, 1, payloadEnd);
      expect(toHex(buf)).toBe(v.serverInitial.protected);
    });

    it('computes the Retry Integrity Tag', () => {
      const retry = fromHex(v.retry);
      const h = parsePacketHeader(retry, 0, 0, new PacketHeader());
      const tag = retryIntegrityTag(p, v.version, retryPseudoPacket(DCID, retry.subarray(0, retry.length - 16)));
      expect(toHex(tag)).toBe(toHex(h.retryIntegrityTag));
    });

    it('protects the ChaCha20-Poly1305 short header packet and derives the key update secret', () => {
      const keys = PacketKeys.fromSecret(p, v.version, TLS_CHACHA20_POLY1305_SHA256, CHACHA_SECRET);
      expect(toHex(keys.iv)).toBe(v.chacha.iv);
      expect(toHex(keys.hpKey)).toBe(v.chacha.hp);
      expect(toHex(keys.next().secret)).toBe(v.chacha.ku);
      expect(keys.next().hpKey).toBe(keys.hpKey);
      const buf = new Uint8Array(21);
      buf.set(fromHex(v.chacha.header + '01'));
      keys.protect(buf, 0, 1, 3, 654360564, 5);
      expect(toHex(buf)).toBe(v.chacha.packet);
      expect(keys.removeHeaderProtection(buf, 0, 1)).toBe(3);
      expect(toHex(buf.subarray(0, 4))).toBe(v.chacha.header);
      expect(keys.open(buf, 0, 4, 21, 654360564)).toBe(5);
      expect(buf[4]).toBe(1);
    });

    it('refuses a corrupted packet without throwing and counts it', () => {
      const keys = PacketKeys.initial(p, v.version, DCID);
      const { buf, headerLength, payloadEnd } = unprotected(v.clientInitial, 1162);
      keys.client.protect(buf, 0, headerLength - 4, 4, 2, payloadEnd);
      buf[600]! ^= 1;
      keys.client.removeHeaderProtection(buf, 0, headerLength - 4);
      expect(keys.client.open(buf, 0, headerLength, 1200, 2)).toBe(-1);
      expect(keys.client.openFailures).toBe(1);
    });
  });
});
