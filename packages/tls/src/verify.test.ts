import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateEcKey, nobleProvider, nodeProvider, parsePrivateKey, toPem, type CryptoProvider, type PrivateKey } from '@gquic/crypto';
import { generateKeyPairSync } from 'node:crypto';
import { CertificateError, matchesHostname, parseCertificates, systemRootCertificates, verifyCertificateChain, type CertificateErrorKind } from './verify.js';
import { createCertificate, createSelfSignedCertificate } from './self-signed.js';
import { X509_OID, parseCertificate } from './x509.js';

const NOW = Date.UTC(2026, 10, 24);
const DAY = 86_400_000;

function rsaKey(): PrivateKey {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return parsePrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
}

/** root (RSA) -> intermediate (P-384) -> leaf (P-256, or the key given). */
function chain(p: CryptoProvider, leafOpts: Partial<Parameters<typeof createCertificate>[0]> = {}, rootName = 'gquic test root') {
  const rootKey = rsaKey();
  const interKey = generateEcKey('P-384');
  const leafKey = generateEcKey('P-256');
  const root = createCertificate({ provider: p, subjectKey: rootKey.publicKey, subjectName: rootName, signingKey: rootKey, notBefore: NOW - 10 * DAY, notAfter: NOW + 3650 * DAY, isCa: true });
  const inter = createCertificate({
    provider: p,
    subjectKey: interKey.publicKey,
    subjectName: 'gquic test intermediate',
    issuerName: rootName,
    signingKey: rootKey,
    notBefore: NOW - 10 * DAY,
    notAfter: NOW + 365 * DAY,
    isCa: true,
    pathLength: 0,
  });
  const leaf = createCertificate({
    provider: p,
    subjectKey: leafKey.publicKey,
    subjectName: 'panel.example',
    issuerName: 'gquic test intermediate',
    signingKey: interKey,
    dnsNames: ['panel.example', '*.agents.example'],
    ipAddresses: [Uint8Array.of(10, 1, 2, 3)],
    notBefore: NOW - DAY,
    notAfter: NOW + 90 * DAY,
    ...leafOpts,
  });
  return { root, inter, leaf, leafKey, interKey, roots: [parseCertificate(root)] };
}

function kindOf(fn: () => unknown): CertificateErrorKind | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof CertificateError) return e.kind;
    throw e;
  }
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('certificate validation with the $name provider', (p) => {
  const c = chain(p);
  const verify = (certs: Uint8Array[], extra: { hostname?: string; now?: number; roots?: typeof c.roots; purpose?: 'server' | 'client' } = {}) =>
    verifyCertificateChain(certs, { provider: p, roots: extra.roots ?? c.roots, now: extra.now ?? NOW, purpose: extra.purpose ?? 'server', ...(extra.hostname !== undefined ? { hostname: extra.hostname } : {}) });

  it('accepts a leaf -> intermediate -> root chain, for its DNS names, wildcard and IP', () => {
    expect(verify([c.leaf, c.inter], { hostname: 'panel.example' }).subjectCommonName).toBe('panel.example');
    expect(kindOf(() => verify([c.leaf, c.inter], { hostname: 'eu-1.agents.example' }))).toBe('ok');
    expect(kindOf(() => verify([c.leaf, c.inter], { hostname: '10.1.2.3' }))).toBe('ok');
    expect(kindOf(() => verify([c.leaf, c.inter], { purpose: 'client' }))).toBe('ok');
  });

  it('OpenSSL parses our certificates and checks their signatures', () => {
    const root = new X509Certificate(c.root);
    const inter = new X509Certificate(c.inter);
    const leaf = new X509Certificate(c.leaf);
    expect(inter.verify(root.publicKey)).toBe(true);
    expect(leaf.verify(inter.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toContain('DNS:panel.example');
    expect(leaf.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(inter.ca).toBe(true);
  });

  it.each([
    ['unknown CA (chain to a root we do not trust)', () => verify([c.leaf, c.inter], { roots: chain(p, {}, 'another root').roots }), 'unknown-ca'],
    ['missing intermediate', () => verify([c.leaf]), 'unknown-ca'],
    ['expired leaf', () => verify([c.leaf, c.inter], { now: NOW + 100 * DAY }), 'expired'],
    ['not yet valid', () => verify([c.leaf, c.inter], { now: NOW - 5 * DAY }), 'not-yet-valid'],
    ['hostname mismatch', () => verify([c.leaf, c.inter], { hostname: 'evil.example' }), 'hostname-mismatch'],
    ['wildcard matching two labels', () => verify([c.leaf, c.inter], { hostname: 'a.b.agents.example' }), 'hostname-mismatch'],
    ['IP mismatch', () => verify([c.leaf, c.inter], { hostname: '10.1.2.4' }), 'hostname-mismatch'],
    [
      'bad signature',
      () => {
        const bad = c.leaf.slice();
        bad[bad.length - 5]! ^= 1;
        return verify([bad, c.inter]);
      },
      'bad-signature',
    ],
    ['empty chain', () => verify([]), 'no-certificate'],
    ['garbage certificate', () => verify([Uint8Array.of(0x30, 0x03, 1, 2, 3)]), 'bad-certificate'],
  ] as Array<[string, () => unknown, CertificateErrorKind]>)('refuses: %s', (_name, fn, kind) => {
    expect(kindOf(fn)).toBe(kind);
  });

  it('refuses a leaf whose extKeyUsage does not cover the purpose, and a non-CA issuer', () => {
    const serverOnly = chain(p, { extKeyUsage: [X509_OID.serverAuth] });
    expect(kindOf(() => verify([serverOnly.leaf, serverOnly.inter], { roots: serverOnly.roots, purpose: 'client' }))).toBe('bad-certificate');
    // A leaf (not a CA) used to sign another certificate.
    const k = generateEcKey('P-256');
    const forged = createCertificate({ provider: p, subjectKey: k.publicKey, subjectName: 'forged', issuerName: 'panel.example', signingKey: c.leafKey, notBefore: NOW - DAY, notAfter: NOW + DAY });
    expect(kindOf(() => verify([forged, c.leaf, c.inter]))).toBe('bad-certificate');
  });

  it('makes a self-signed localhost certificate that validates as its own anchor', () => {
    const s = createSelfSignedCertificate({ provider: p, now: NOW });
    const roots = parseCertificates(s.certificatePem);
    for (const host of ['localhost', '127.0.0.1', '::1']) expect(kindOf(() => verify([s.certificate], { roots, hostname: host }))).toBe('ok');
    expect(new X509Certificate(s.certificate).checkHost('localhost')).toBe('localhost');
    expect(parsePrivateKey(s.keyPem).publicKey.spki).toEqual(s.key.publicKey.spki);
    expect(kindOf(() => verify([s.certificate], { hostname: 'localhost' }))).toBe('unknown-ca');
  });
});

describe('system roots and host names', () => {
  it('parses most of Node’s root store', () => {
    expect(systemRootCertificates().length).toBeGreaterThan(100);
  });
  it('matches names case-insensitively and IPv6 literals in brackets', () => {
    const s = createSelfSignedCertificate({ provider: nodeProvider, dnsNames: ['Example.COM'] });
    const cert = parseCertificate(s.certificate);
    expect(matchesHostname(cert, 'example.com.')).toBe(true);
    expect(matchesHostname(cert, '[::1]')).toBe(true);
    expect(matchesHostname(cert, '::2')).toBe(false);
  });
  it('writes PEM that round-trips', () => {
    const s = createSelfSignedCertificate({ provider: nodeProvider });
    expect(parseCertificates(toPem('CERTIFICATE', s.certificate) + s.certificatePem)).toHaveLength(2);
  });
});
