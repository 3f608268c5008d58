// Certificate path validation for TLS (RFC 5280 §6, simplified to what TLS peers need) and host name
// checks (RFC 6125 §6.4): chain building to a trust anchor, signatures, validity dates, basic constraints and
// path length, key usage and extended key usage, DNS and IP subjectAltNames. Each failure is a typed
// CertificateError carrying the TLS alert to send.

import { rootCertificates } from 'node:tls';
import { isIP } from 'node:net';
import { parsePem, type CryptoProvider } from '@gquic/crypto';
import { AlertDescription, TlsAlert } from './alerts.js';
import { KeyUsage, X509_OID, parseCertificate, type Certificate } from './x509.js';

export type CertificateErrorKind =
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'hostname-mismatch'
  | 'bad-signature'
  | 'bad-certificate'
  | 'unsupported-certificate'
  | 'no-certificate';

const ALERT_FOR: Record<CertificateErrorKind, number> = {
  'unknown-ca': AlertDescription.unknown_ca,
  expired: AlertDescription.certificate_expired,
  'not-yet-valid': AlertDescription.certificate_expired,
  'hostname-mismatch': AlertDescription.bad_certificate,
  'bad-signature': AlertDescription.bad_certificate,
  'bad-certificate': AlertDescription.bad_certificate,
  'unsupported-certificate': AlertDescription.unsupported_certificate,
  'no-certificate': AlertDescription.certificate_required,
};

export class CertificateError extends TlsAlert {
  constructor(
    readonly kind: CertificateErrorKind,
    reason: string,
  ) {
    super(ALERT_FOR[kind], reason);
    this.name = 'CertificateError';
  }
}

/** The longest chain we build (leaf, intermediates, anchor). */
export const MAX_CHAIN_DEPTH = 10;

export interface VerifyOptions {
  provider: CryptoProvider;
  /** Trust anchors. */
  roots: readonly Certificate[];
  /** Wall-clock time in milliseconds since the epoch (validity dates). */
  now: number;
  /** The name the client connected to: a DNS name or an IP literal (server certificates only). */
  hostname?: string;
  purpose: 'server' | 'client';
}

/** Parses trust anchors from PEM text (several certificates), skipping none: bad input throws. */
export function parseCertificates(pem: string): Certificate[] {
  return parsePem(pem)
    .filter((b) => b.label === 'CERTIFICATE')
    .map((b) => parseCertificate(b.der));
}

let systemRoots: Certificate[] | undefined;

/** Node's bundled root store (`tls.rootCertificates`), parsed once; roots we cannot parse are left out. */
export function systemRootCertificates(): readonly Certificate[] {
  if (systemRoots === undefined) {
    systemRoots = [];
    for (const pem of rootCertificates) {
      try {
        systemRoots.push(...parseCertificates(pem));
      } catch {
        // A root with an algorithm we do not implement can never anchor a chain we accept.
      }
    }
  }
  return systemRoots;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function checkDates(c: Certificate, now: number): void {
  if (now < c.notBefore) throw new CertificateError('not-yet-valid', `certificate '${c.subjectCommonName ?? '?'}' is not valid before ${new Date(c.notBefore).toISOString()}`);
  if (now > c.notAfter) throw new CertificateError('expired', `certificate '${c.subjectCommonName ?? '?'}' expired at ${new Date(c.notAfter).toISOString()}`);
}

function signedBy(p: CryptoProvider, child: Certificate, issuer: Certificate): boolean {
  if (!bytesEqual(child.issuer, issuer.subject)) return false;
  if (child.signatureAlgorithm === undefined) throw new CertificateError('unsupported-certificate', `unsupported signature algorithm ${child.signatureAlgorithmOid}`);
  return p.verify(child.signatureAlgorithm, issuer.publicKey, child.tbs, child.signature);
}

/**
 * Validates `chain` (leaf first, as sent in a Certificate message) and returns the parsed leaf.
 * Throws CertificateError.
 */
export function verifyCertificateChain(chain: readonly Uint8Array[], opts: VerifyOptions): Certificate {
  if (chain.length === 0) throw new CertificateError('no-certificate', 'the peer sent no certificate');
  let certs: Certificate[];
  try {
    certs = chain.map((c) => parseCertificate(c));
  } catch (e) {
    throw new CertificateError('bad-certificate', `unparseable certificate: ${(e as Error).message}`);
  }
  const leaf = certs[0]!;
  checkLeafUsage(leaf, opts.purpose);
  let current = leaf;
  const pool = certs.slice(1);
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    checkDates(current, opts.now);
    if (current.unknownCriticalExtensions.length > 0) {
      throw new CertificateError('unsupported-certificate', `unknown critical extension ${current.unknownCriticalExtensions[0]}`);
    }
    // A trust anchor that issued (or is) the current certificate ends the path.
    for (const root of opts.roots) {
      if (bytesEqual(root.der, current.der)) return finish(leaf, opts);
      if (bytesEqual(current.issuer, root.subject)) {
        if (!signedBy(opts.provider, current, root)) throw new CertificateError('bad-signature', `signature of '${current.subjectCommonName ?? '?'}' does not verify with its trust anchor`);
        checkDates(root, opts.now);
        return finish(leaf, opts);
      }
    }
    const issuer = pool.find((c) => bytesEqual(current.issuer, c.subject) && !bytesEqual(c.der, current.der));
    if (issuer === undefined) {
      throw new CertificateError('unknown-ca', `no trusted issuer for '${current.subjectCommonName ?? '?'}'${bytesEqual(current.issuer, current.subject) ? ' (self-signed)' : ''}`);
    }
    if (!issuer.isCa) throw new CertificateError('bad-certificate', `issuer '${issuer.subjectCommonName ?? '?'}' is not a CA`);
    if (issuer.keyUsage !== undefined && !issuer.keyUsage.has(KeyUsage.keyCertSign)) throw new CertificateError('bad-certificate', 'issuer may not sign certificates (keyUsage)');
    if (issuer.pathLenConstraint !== undefined && depth > issuer.pathLenConstraint) throw new CertificateError('bad-certificate', 'path length constraint exceeded');
    if (!signedBy(opts.provider, current, issuer)) throw new CertificateError('bad-signature', `signature of '${current.subjectCommonName ?? '?'}' does not verify`);
    current = issuer;
  }
  throw new CertificateError('unknown-ca', 'certificate chain too long');
}

function checkLeafUsage(leaf: Certificate, purpose: 'server' | 'client'): void {
  // RFC 5280 §4.2.1.3: the leaf signs the handshake, so digitalSignature is needed when keyUsage is present.
  if (leaf.keyUsage !== undefined && !leaf.keyUsage.has(KeyUsage.digitalSignature)) throw new CertificateError('bad-certificate', 'certificate may not sign (keyUsage)');
  const want = purpose === 'server' ? X509_OID.serverAuth : X509_OID.clientAuth;
  if (leaf.extKeyUsage !== undefined && !leaf.extKeyUsage.has(want) && !leaf.extKeyUsage.has(X509_OID.anyExtendedKeyUsage)) {
    throw new CertificateError('bad-certificate', `certificate is not for ${purpose} authentication (extKeyUsage)`);
  }
}

function finish(leaf: Certificate, opts: VerifyOptions): Certificate {
  if (opts.hostname !== undefined && !matchesHostname(leaf, opts.hostname)) {
    throw new CertificateError('hostname-mismatch', `certificate is not valid for '${opts.hostname}'`);
  }
  return leaf;
}

/** RFC 6125 §6.4 (DNS names, a wildcard only as the whole left-most label) and RFC 5280 iPAddress. */
export function matchesHostname(cert: Certificate, hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(host);
  if (family !== 0) {
    const ip = ipBytes(host, family);
    return cert.ipAddresses.some((a) => bytesEqual(a, ip));
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  return cert.dnsNames.some((pattern) => {
    const p = pattern.toLowerCase().replace(/\.$/, '');
    if (p === name) return true;
    if (!p.startsWith('*.')) return false;
    const dot = name.indexOf('.');
    return dot > 0 && name.slice(dot + 1) === p.slice(2) && p.slice(2).includes('.');
  });
}

function ipBytes(ip: string, family: number): Uint8Array {
  if (family === 4) return Uint8Array.from(ip.split('.').map(Number));
  // Expand "::" and an embedded IPv4 tail.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = v4[1]!.split('.').map(Number);
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
