// Differential properties: the node:crypto and @noble providers agree byte for byte.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbBytes, runs, seed } from '@gquic/testkit';
import { createCipheriv } from 'node:crypto';
import { ChaCha20Block } from './chacha20-block.js';
import { OpenSslAesHeaderProtection } from './node-provider.js';
import { nobleProvider as noble } from './noble-provider.js';
import { nodeProvider as node } from './node-provider.js';
import { CryptoError, type HeaderProtection, type AeadName, type HashName, type HeaderProtectionName, type NamedGroupName } from './provider.js';

const AEADS: Array<[AeadName, number]> = [
  ['aes-128-gcm', 16],
  ['aes-256-gcm', 32],
  ['chacha20-poly1305', 32],
];

describe('node and noble providers agree', () => {
  it.each(AEADS)('%s: same ciphertext and tag, each opens the other, tampering fails', (alg, keyLength) => {
    fc.assert(
      fc.property(arbBytes(keyLength, keyLength), arbBytes(12, 12), arbBytes(0, 64), arbBytes(0, 1500), fc.nat(7), (key, nonce, aad, plaintext, offset) => {
        const a = new Uint8Array(offset + plaintext.length + 16);
        a.set(plaintext, offset);
        const b = a.slice();
        node.aead(alg, key).seal(nonce, aad, a, offset, plaintext.length);
        noble.aead(alg, key).seal(nonce, aad, b, offset, plaintext.length);
        expect(b).toEqual(a);
        expect(noble.aead(alg, key).open(nonce, aad, a, offset, plaintext.length + 16)).toBe(true);
        expect(a.subarray(offset, offset + plaintext.length)).toEqual(plaintext);
        expect(node.aead(alg, key).open(nonce, aad, b, offset, plaintext.length + 16)).toBe(true);
        expect(b.subarray(offset, offset + plaintext.length)).toEqual(plaintext);
        // Re-seal and flip one bit anywhere in ciphertext or tag: both refuse.
        node.aead(alg, key).seal(nonce, aad, a, offset, plaintext.length);
        const i = offset + ((plaintext.length * 31 + 7) % (plaintext.length + 16));
        a[i]! ^= 0x40;
        const c = a.slice();
        expect(node.aead(alg, key).open(nonce, aad, a, offset, plaintext.length + 16)).toBe(false);
        expect(noble.aead(alg, key).open(nonce, aad, c, offset, plaintext.length + 16)).toBe(false);
      }),
      { numRuns: runs(300), ...seed() },
    );
  });

  it('a reused AEAD object gives the same results as a fresh one (keys expanded once per epoch)', () => {
    for (const [alg, keyLength] of AEADS) {
      const key = node.randomBytes(keyLength);
      const reused = noble.aead(alg, key);
      for (let i = 0; i < 20; i++) {
        const nonce = node.randomBytes(12);
        const data = node.randomBytes(100 + i * 37);
        const x = new Uint8Array(data.length + 16);
        x.set(data);
        const y = x.slice();
        reused.seal(nonce, data.subarray(0, 20), x, 0, data.length);
        node.aead(alg, key).seal(nonce, data.subarray(0, 20), y, 0, data.length);
        expect(x).toEqual(y);
      }
    }
  });

  it.each([
    ['aes-128', 16],
    ['aes-256', 32],
    ['chacha20', 32],
  ] as Array<[HeaderProtectionName, number]>)('%s header protection masks (both providers use the JavaScript mask; OpenSSL is the reference)', (alg, keyLength) => {
    fc.assert(
      fc.property(arbBytes(keyLength, keyLength), fc.array(arbBytes(16, 16), { minLength: 1, maxLength: 5 }), (key, samples) => {
        const hn = openSslMask(alg, key);
        const hb = noble.headerProtection(alg, key);
        const hb2 = node.headerProtection(alg, key);
        const m3 = new Uint8Array(5);
        const m1 = new Uint8Array(5);
        const m2 = new Uint8Array(5);
        for (const s of samples) {
          hn.mask(s, m1);
          hb.mask(s, m2);
          hb2.mask(s, m3);
          expect(m2).toEqual(m1);
          expect(m3).toEqual(m1);
        }
      }),
      { numRuns: runs(300), ...seed() },
    );
  });

  it('ChaCha20 header protection handles the counter 0xffffffff (RFC 9001 §5.4.4 uses any 32-bit counter)', () => {
    const key = node.randomBytes(32);
    const sample = Uint8Array.of(0xff, 0xff, 0xff, 0xff, ...node.randomBytes(12));
    const m1 = new Uint8Array(5);
    const m2 = new Uint8Array(5);
    openSslMask('chacha20', key).mask(sample, m1);
    noble.headerProtection('chacha20', key).mask(sample, m2);
    expect(m2).toEqual(m1);
  });

  it('RFC 8439 §2.3.2: the ChaCha20 block function test vector', () => {
    const key = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = Uint8Array.of(0, 0, 0, 0x09, 0, 0, 0, 0x4a, 0, 0, 0, 0);
    const out = new Uint8Array(16);
    new ChaCha20Block(key).keystream(1, nonce, 0, out);
    expect(Buffer.from(out).toString('hex')).toBe('10f1e7e4d13b5915500fdd1fa32071c4');
  });

  it.each(['sha256', 'sha384'] as HashName[])('%s: hashes, incremental transcript hashes, HMAC and HKDF', (alg) => {
    fc.assert(
      fc.property(fc.array(arbBytes(0, 200), { maxLength: 5 }), arbBytes(0, 64), arbBytes(0, 64), fc.integer({ min: 1, max: 255 }), (parts, salt, info, length) => {
        const hn = node.createHash(alg);
        const hb = noble.createHash(alg);
        for (const part of parts) {
          hn.update(part);
          hb.update(part);
          expect(hb.digest()).toEqual(hn.digest());
        }
        const all = Uint8Array.from(parts.flatMap((x) => [...x]));
        expect(node.hash(alg, all)).toEqual(hn.digest());
        expect(noble.hash(alg, all)).toEqual(hn.clone().digest());
        expect(noble.hmac(alg, salt, all)).toEqual(node.hmac(alg, salt, all));
        const prk = node.hkdfExtract(alg, salt, all);
        expect(noble.hkdfExtract(alg, salt, all)).toEqual(prk);
        expect(noble.hkdfExpand(alg, prk, info, length)).toEqual(node.hkdfExpand(alg, prk, info, length));
      }),
      { numRuns: runs(200), ...seed() },
    );
  });

  it.each(['x25519', 'secp256r1', 'secp384r1'] as NamedGroupName[])('%s: key shares from either provider agree on the shared secret', (group) => {
    for (let i = 0; i < 5; i++) {
      const a = node.generateKeyShare(group);
      const b = noble.generateKeyShare(group);
      const s1 = a.deriveSecret(b.publicKey);
      expect(b.deriveSecret(a.publicKey)).toEqual(s1);
      expect(s1.length).toBe(group === 'secp384r1' ? 48 : 32);
    }
  });

  it.each([node, noble])('$name: refuses invalid peer key shares with CryptoError', (p) => {
    expect(() => p.generateKeyShare('x25519').deriveSecret(new Uint8Array(31))).toThrow(CryptoError);
    // A low-order point gives an all-zero X25519 secret (RFC 8446 §7.4.2).
    expect(() => p.generateKeyShare('x25519').deriveSecret(new Uint8Array(32))).toThrow(CryptoError);
    const bad = new Uint8Array(65);
    bad[0] = 4;
    bad[64] = 1;
    expect(() => p.generateKeyShare('secp256r1').deriveSecret(bad)).toThrow(CryptoError);
    expect(() => p.generateKeyShare('secp256r1').deriveSecret(p.generateKeyShare('secp384r1').publicKey)).toThrow(CryptoError);
  });
});

/** The header protection mask computed by OpenSSL. */
function openSslMask(alg: HeaderProtectionName, key: Uint8Array): HeaderProtection {
  if (alg !== 'chacha20') return new OpenSslAesHeaderProtection(alg, key);
  return {
    mask(sample, out) {
      out.set(createCipheriv('chacha20', key, sample.subarray(0, 16)).update(new Uint8Array(5)));
    },
  };
}
