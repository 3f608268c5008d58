// Signature algorithms: TLS 1.3 SignatureScheme values (RFC 8446 §4.2.3) and the X.509 signature algorithm
// OIDs they correspond to, reduced to one provider-facing description.

import { OID, type PrivateKey, type PublicKey } from './keys.js';

export type SignatureHash = 'sha256' | 'sha384' | 'sha512';

export type SignatureAlgorithm =
  | { kind: 'ecdsa'; hash: SignatureHash }
  | { kind: 'ed25519' }
  /** RSASSA-PSS with MGF1 of the same hash and a salt as long as the hash (RFC 8446 §4.2.3). */
  | { kind: 'rsa-pss'; hash: SignatureHash }
  | { kind: 'rsa-pkcs1'; hash: SignatureHash };

export const SignatureScheme = {
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
  rsa_pkcs1_sha512: 0x0601,
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
  ed25519: 0x0807,
} as const;

const S = SignatureScheme;

/** The algorithm behind a TLS SignatureScheme, or undefined when we do not implement it. */
export function schemeAlgorithm(scheme: number): SignatureAlgorithm | undefined {
  switch (scheme) {
    case S.ecdsa_secp256r1_sha256:
      return { kind: 'ecdsa', hash: 'sha256' };
    case S.ecdsa_secp384r1_sha384:
      return { kind: 'ecdsa', hash: 'sha384' };
    case S.ed25519:
      return { kind: 'ed25519' };
    case S.rsa_pss_rsae_sha256:
      return { kind: 'rsa-pss', hash: 'sha256' };
    case S.rsa_pss_rsae_sha384:
      return { kind: 'rsa-pss', hash: 'sha384' };
    case S.rsa_pss_rsae_sha512:
      return { kind: 'rsa-pss', hash: 'sha512' };
    case S.rsa_pkcs1_sha256:
      return { kind: 'rsa-pkcs1', hash: 'sha256' };
    case S.rsa_pkcs1_sha384:
      return { kind: 'rsa-pkcs1', hash: 'sha384' };
    case S.rsa_pkcs1_sha512:
      return { kind: 'rsa-pkcs1', hash: 'sha512' };
    default:
      return undefined;
  }
}

/**
 * Whether `scheme` may sign a TLS 1.3 CertificateVerify with `key`: PKCS#1 v1.5 is for certificates only
 * (RFC 8446 §4.2.3), and the ECDSA schemes fix the curve.
 */
export function schemeFitsKey(scheme: number, key: PublicKey): boolean {
  switch (scheme) {
    case S.ecdsa_secp256r1_sha256:
      return key.type === 'ec' && key.curve === 'P-256';
    case S.ecdsa_secp384r1_sha384:
      return key.type === 'ec' && key.curve === 'P-384';
    case S.ed25519:
      return key.type === 'ed25519';
    case S.rsa_pss_rsae_sha256:
    case S.rsa_pss_rsae_sha384:
    case S.rsa_pss_rsae_sha512:
      return key.type === 'rsa';
    default:
      return false;
  }
}

/** The TLS 1.3 schemes a private key can sign CertificateVerify with, best first. */
export function schemesForKey(key: PrivateKey): number[] {
  switch (key.type) {
    case 'ec':
      return [key.curve === 'P-256' ? S.ecdsa_secp256r1_sha256 : S.ecdsa_secp384r1_sha384];
    case 'ed25519':
      return [S.ed25519];
    case 'rsa':
      return [S.rsa_pss_rsae_sha256, S.rsa_pss_rsae_sha384, S.rsa_pss_rsae_sha512];
  }
}

/** The algorithm of an X.509 signatureAlgorithm OID (RFC 5280 §4.1.1.2), or undefined. */
export function x509SignatureAlgorithm(oid: string, pssHash?: SignatureHash): SignatureAlgorithm | undefined {
  switch (oid) {
    case OID.ecdsaWithSHA256:
      return { kind: 'ecdsa', hash: 'sha256' };
    case OID.ecdsaWithSHA384:
      return { kind: 'ecdsa', hash: 'sha384' };
    case OID.ecdsaWithSHA512:
      return { kind: 'ecdsa', hash: 'sha512' };
    case OID.sha256WithRSAEncryption:
      return { kind: 'rsa-pkcs1', hash: 'sha256' };
    case OID.sha384WithRSAEncryption:
      return { kind: 'rsa-pkcs1', hash: 'sha384' };
    case OID.sha512WithRSAEncryption:
      return { kind: 'rsa-pkcs1', hash: 'sha512' };
    case OID.ed25519:
      return { kind: 'ed25519' };
    case OID.rsassaPss:
      return pssHash === undefined ? undefined : { kind: 'rsa-pss', hash: pssHash };
    default:
      return undefined;
  }
}
