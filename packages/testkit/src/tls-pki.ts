// A throwaway PKI for handshake tests: a CA and leaf certificates for each key type TLS 1.3 signs with.

import { generateKeyPairSync } from 'node:crypto';
import { ed25519PrivateKey, generateEcKey, parsePrivateKey, type CryptoProvider, type PrivateKey } from '@gquic/crypto';
import { createCertificate, parseCertificate, type Certificate } from '@gquic/tls';

export type LeafKeyType = 'P-256' | 'P-384' | 'Ed25519' | 'RSA';
export const LEAF_KEY_TYPES: readonly LeafKeyType[] = ['P-256', 'P-384', 'Ed25519', 'RSA'];

const DAY = 86_400_000;

export function rsaKey(bits = 2048): PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
}

export function keyOfType(t: LeafKeyType, provider: CryptoProvider): PrivateKey {
  switch (t) {
    case 'P-256':
      return generateEcKey('P-256');
    case 'P-384':
      return generateEcKey('P-384');
    case 'Ed25519':
      return ed25519PrivateKey(provider.randomBytes(32));
    case 'RSA':
      return rsaKey();
  }
}

export interface TestPki {
  ca: Uint8Array;
  caKey: PrivateKey;
  roots: Certificate[];
  /** Issues a leaf for `names` (DNS) with a key of type `t`; `chain` is [leaf, ca]. */
  leaf(t: LeafKeyType, opts?: { names?: string[]; notBefore?: number; notAfter?: number; ips?: Uint8Array[] }): { chain: Uint8Array[]; key: PrivateKey };
}

export function createTestPki(provider: CryptoProvider, now: number, name = 'gquic test CA'): TestPki {
  const caKey = generateEcKey('P-256');
  const ca = createCertificate({ provider, subjectKey: caKey.publicKey, subjectName: name, signingKey: caKey, notBefore: now - 10 * DAY, notAfter: now + 3650 * DAY, isCa: true });
  return {
    ca,
    caKey,
    roots: [parseCertificate(ca)],
    leaf(t, opts = {}) {
      const key = keyOfType(t, provider);
      const leaf = createCertificate({
        provider,
        subjectKey: key.publicKey,
        subjectName: opts.names?.[0] ?? 'localhost',
        issuerName: name,
        signingKey: caKey,
        dnsNames: opts.names ?? ['localhost', 'panel.example'],
        ipAddresses: opts.ips ?? [Uint8Array.of(127, 0, 0, 1)],
        notBefore: opts.notBefore ?? now - DAY,
        notAfter: opts.notAfter ?? now + 90 * DAY,
      });
      return { chain: [leaf, ca], key };
    },
  };
}
