import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateEcKey, parsePem, parsePrivateKey, parseSpki, toPem, type PrivateKey } from './keys.js';
import { nobleProvider } from './noble-provider.js';
import { nodeProvider } from './node-provider.js';
import { SignatureScheme, schemeAlgorithm, schemeFitsKey, schemesForKey, type SignatureAlgorithm } from './signatures.js';

interface Fixture {
  name: string;
  key: PrivateKey;
  spki: Uint8Array;
  algs: SignatureAlgorithm[];
}

function fromNode(type: 'ec' | 'ed25519' | 'rsa', opts: object, format: 'pkcs8' | 'sec1' | 'pkcs1'): { key: PrivateKey; spki: Uint8Array } {
  const { privateKey, publicKey } = generateKeyPairSync(type as 'ec', opts as { namedCurve: string });
  const pem = privateKey.export({ format: 'pem', type: format as 'pkcs8' }) as string;
  return { key: parsePrivateKey(pem), spki: new Uint8Array(publicKey.export({ format: 'der', type: 'spki' })) };
}

const p256 = fromNode('ec', { namedCurve: 'P-256' }, 'pkcs8');
const p384sec1 = fromNode('ec', { namedCurve: 'P-384' }, 'sec1');
const ed = fromNode('ed25519', {}, 'pkcs8');
const rsa = fromNode('rsa', { modulusLength: 2048 }, 'pkcs1');

const FIXTURES: Fixture[] = [
  { name: 'P-256 (PKCS#8)', ...p256, algs: [{ kind: 'ecdsa', hash: 'sha256' }, { kind: 'ecdsa', hash: 'sha384' }] },
  { name: 'P-384 (SEC1)', ...p384sec1, algs: [{ kind: 'ecdsa', hash: 'sha384' }, { kind: 'ecdsa', hash: 'sha256' }] },
  { name: 'Ed25519', ...ed, algs: [{ kind: 'ed25519' }] },
  { name: 'RSA 2048 (PKCS#1)', ...rsa, algs: [{ kind: 'rsa-pss', hash: 'sha256' }, { kind: 'rsa-pss', hash: 'sha384' }, { kind: 'rsa-pkcs1', hash: 'sha256' }] },
];

describe('keys and signatures', () => {
  it.each(FIXTURES)('$name: parses to the public key OpenSSL derives', (f) => {
    expect(f.key.publicKey.spki).toEqual(f.spki);
    expect(parseSpki(f.spki)).toEqual(f.key.publicKey);
    // PKCS#8 round trip: OpenSSL reads our encoding back.
    expect(parsePrivateKey(toPem('PRIVATE KEY', f.key.pkcs8)).publicKey.spki).toEqual(f.spki);
  });

  it.each(FIXTURES)('$name: signatures from either provider verify with both, and tampering fails', (f) => {
    const data = new TextEncoder().encode(`TLS 1.3, server CertificateVerify ${f.name}`);
    for (const alg of f.algs) {
      for (const signer of [nodeProvider, nobleProvider]) {
        const sig = signer.sign(alg, f.key, data);
        for (const verifier of [nodeProvider, nobleProvider]) {
          expect(verifier.verify(alg, f.key.publicKey, data, sig), `${signer.name} -> ${verifier.name} ${JSON.stringify(alg)}`).toBe(true);
          const bad = data.slice();
          bad[0]! ^= 1;
          expect(verifier.verify(alg, f.key.publicKey, bad, sig)).toBe(false);
          expect(verifier.verify(alg, f.key.publicKey, data, sig.subarray(0, sig.length - 1))).toBe(false);
        }
      }
    }
  });

  it('never throws on mismatched keys or garbage signatures', () => {
    for (const p of [nodeProvider, nobleProvider]) {
      expect(p.verify({ kind: 'ed25519' }, p256.key.publicKey, new Uint8Array(4), new Uint8Array(64))).toBe(false);
      expect(p.verify({ kind: 'ecdsa', hash: 'sha256' }, p256.key.publicKey, new Uint8Array(4), new Uint8Array(70).fill(0x30))).toBe(false);
      expect(p.verify({ kind: 'rsa-pss', hash: 'sha256' }, rsa.key.publicKey, new Uint8Array(4), new Uint8Array(256))).toBe(false);
      expect(() => p.sign({ kind: 'ed25519' }, p256.key, new Uint8Array(4))).toThrow();
    }
  });

  it('maps TLS signature schemes to keys (RFC 8446 §4.2.3)', () => {
    expect(schemesForKey(p256.key)).toEqual([SignatureScheme.ecdsa_secp256r1_sha256]);
    expect(schemeFitsKey(SignatureScheme.ecdsa_secp384r1_sha384, p256.key.publicKey)).toBe(false);
    expect(schemeFitsKey(SignatureScheme.rsa_pkcs1_sha256, rsa.key.publicKey)).toBe(false);
    expect(schemeAlgorithm(SignatureScheme.rsa_pss_rsae_sha384)).toEqual({ kind: 'rsa-pss', hash: 'sha384' });
    expect(schemeAlgorithm(0x0808)).toBeUndefined();
  });

  it('generates P-256 keys that OpenSSL accepts', () => {
    const k = generateEcKey('P-256');
    const sig = nobleProvider.sign({ kind: 'ecdsa', hash: 'sha256' }, k, new Uint8Array(3));
    expect(nodeProvider.verify({ kind: 'ecdsa', hash: 'sha256' }, parseSpki(k.publicKey.spki), new Uint8Array(3), sig)).toBe(true);
    expect(parsePem(toPem('PRIVATE KEY', k.pkcs8))[0]!.label).toBe('PRIVATE KEY');
  });
});
