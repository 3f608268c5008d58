// Certificates made without openssl: a self-signed ECDSA P-256 certificate for development (localhost,
// 127.0.0.1, ::1), and `createCertificate` for issuing chains (tests, a dev CA for edge agents).

import { OID, der, generateEcKey, toPem, type CryptoProvider, type PrivateKey, type PublicKey, type SignatureAlgorithm } from '@gquic/crypto';
import { X509_OID } from './x509.js';

export interface CertificateOptions {
  provider: CryptoProvider;
  /** The certified public key. */
  subjectKey: PublicKey;
  subjectName: string;
  /** The issuer's key and name; omitted for a self-signed certificate (then `signingKey` must be the subject's). */
  signingKey: PrivateKey;
  issuerName?: string;
  dnsNames?: string[];
  /** IPv4 or IPv6 addresses as bytes (4 or 16). */
  ipAddresses?: Uint8Array[];
  notBefore: number;
  notAfter: number;
  isCa?: boolean;
  pathLength?: number;
  /** Extended key usages; default serverAuth and clientAuth. */
  extKeyUsage?: string[];
  /** keyUsage bits; default digitalSignature, plus keyCertSign for a CA. */
  keyUsage?: number[];
}

function signatureAlgorithm(key: PrivateKey): { alg: SignatureAlgorithm; id: Uint8Array } {
  switch (key.type) {
    case 'ec':
      return key.curve === 'P-256'
        ? { alg: { kind: 'ecdsa', hash: 'sha256' }, id: der.seq(der.oidBytes(OID.ecdsaWithSHA256)) }
        : { alg: { kind: 'ecdsa', hash: 'sha384' }, id: der.seq(der.oidBytes(OID.ecdsaWithSHA384)) };
    case 'ed25519':
      return { alg: { kind: 'ed25519' }, id: der.seq(der.oidBytes(OID.ed25519)) };
    case 'rsa':
      return { alg: { kind: 'rsa-pkcs1', hash: 'sha256' }, id: der.seq(der.oidBytes(OID.sha256WithRSAEncryption), der.tlv(der.Tag.NULL)) };
  }
}

function nameOf(cn: string): Uint8Array {
  return der.seq(der.set(der.seq(der.oidBytes(X509_OID.commonName), der.utf8(cn))));
}

/** Issues an X.509 v3 certificate (DER). */
export function createCertificate(o: CertificateOptions): Uint8Array {
  const { alg, id } = signatureAlgorithm(o.signingKey);
  const serial = o.provider.randomBytes(16);
  serial[0]! &= 0x7f;
  const ext = (oid: string, critical: boolean, value: Uint8Array): Uint8Array =>
    der.seq(der.oidBytes(oid), ...(critical ? [der.tlv(der.Tag.BOOLEAN, Uint8Array.of(0xff))] : []), der.octets(value));
  const bits = o.keyUsage ?? (o.isCa ? [0, 5] : [0]);
  let usage = 0;
  for (const b of bits) usage |= 0x80 >> b;
  const exts = [
    ext(
      X509_OID.basicConstraints,
      true,
      der.seq(...(o.isCa ? [der.tlv(der.Tag.BOOLEAN, Uint8Array.of(0xff))] : []), ...(o.pathLength !== undefined ? [der.uint(Uint8Array.of(o.pathLength))] : [])),
    ),
    ext(X509_OID.keyUsage, true, der.tlv(der.Tag.BIT_STRING, Uint8Array.of(0, usage))),
    ext(X509_OID.extKeyUsage, false, der.seq(...(o.extKeyUsage ?? [X509_OID.serverAuth, X509_OID.clientAuth]).map((x) => der.oidBytes(x)))),
  ];
  const sans = [...(o.dnsNames ?? []).map((n) => der.tlv(0x82, new TextEncoder().encode(n))), ...(o.ipAddresses ?? []).map((ip) => der.tlv(0x87, ip))];
  if (sans.length > 0) exts.push(ext(X509_OID.subjectAltName, false, der.seq(...sans)));
  const tbs = der.seq(
    der.explicit(0, der.uint(Uint8Array.of(2))),
    der.uint(serial),
    id,
    nameOf(o.issuerName ?? o.subjectName),
    der.seq(der.timeBytes(o.notBefore), der.timeBytes(o.notAfter)),
    nameOf(o.subjectName),
    o.subjectKey.spki,
    der.explicit(3, der.seq(...exts)),
  );
  return der.seq(tbs, id, der.bits(o.provider.sign(alg, o.signingKey, tbs)));
}

export interface SelfSigned {
  certificate: Uint8Array;
  key: PrivateKey;
  certificatePem: string;
  keyPem: string;
}

/**
 * A self-signed ECDSA P-256 certificate for `localhost`, 127.0.0.1 and ::1, valid for `days` (30) from a minute
 * ago. It is marked CA so that it can be its own trust anchor (`ca` option of a client).
 */
export function createSelfSignedCertificate(opts: { provider: CryptoProvider; commonName?: string; dnsNames?: string[]; ipAddresses?: Uint8Array[]; days?: number; now?: number }): SelfSigned {
  const key = generateEcKey('P-256');
  const now = opts.now ?? Date.now();
  const certificate = createCertificate({
    provider: opts.provider,
    subjectKey: key.publicKey,
    subjectName: opts.commonName ?? 'localhost',
    signingKey: key,
    dnsNames: opts.dnsNames ?? ['localhost'],
    ipAddresses: opts.ipAddresses ?? [Uint8Array.of(127, 0, 0, 1), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)],
    notBefore: now - 60_000,
    notAfter: now + (opts.days ?? 30) * 86_400_000,
    isCa: true,
  });
  return { certificate, key, certificatePem: toPem('CERTIFICATE', certificate), keyPem: toPem('PRIVATE KEY', key.pkcs8) };
}
