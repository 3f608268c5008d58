// Private and public keys: PEM, PKCS#8, SEC1 and PKCS#1 private keys, SubjectPublicKeyInfo public keys
// (RFC 5208, RFC 5915, RFC 8017, RFC 5280 §4.1.2.7), for ECDSA P-256/P-384, Ed25519 and RSA.

import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import * as der from './der.js';
import { DerError, Tag, bigint, bitString, children, content, encoding, expect, oid, readDer } from './der.js';

export const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
  secp384r1: '1.3.132.0.34',
  ed25519: '1.3.101.112',
  rsaEncryption: '1.2.840.113549.1.1.1',
  rsassaPss: '1.2.840.113549.1.1.10',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
  sha384WithRSAEncryption: '1.2.840.113549.1.1.12',
  sha512WithRSAEncryption: '1.2.840.113549.1.1.13',
  ecdsaWithSHA256: '1.2.840.10045.4.3.2',
  ecdsaWithSHA384: '1.2.840.10045.4.3.3',
  ecdsaWithSHA512: '1.2.840.10045.4.3.4',
} as const;

export type Curve = 'P-256' | 'P-384';

export type PublicKey =
  | { type: 'ec'; curve: Curve; /** uncompressed point */ point: Uint8Array; spki: Uint8Array }
  | { type: 'ed25519'; key: Uint8Array; spki: Uint8Array }
  | { type: 'rsa'; n: bigint; e: bigint; bits: number; spki: Uint8Array };

export type PrivateKey =
  | { type: 'ec'; curve: Curve; d: Uint8Array; publicKey: PublicKey; pkcs8: Uint8Array }
  | { type: 'ed25519'; seed: Uint8Array; publicKey: PublicKey; pkcs8: Uint8Array }
  | { type: 'rsa'; n: bigint; e: bigint; d: bigint; publicKey: PublicKey; pkcs8: Uint8Array };

/** PEM blocks (RFC 7468): label and DER bytes, in order. */
export function parsePem(text: string): Array<{ label: string; der: Uint8Array }> {
  const out: Array<{ label: string; der: Uint8Array }> = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const b64 = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new DerError(`PEM ${m[1]}: bad base64`);
    out.push({ label: m[1]!, der: new Uint8Array(Buffer.from(b64, 'base64')) });
  }
  return out;
}

export function toPem(label: string, derBytes: Uint8Array): string {
  const b64 = Buffer.from(derBytes).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

const CURVE_BY_OID: Record<string, Curve> = { [OID.prime256v1]: 'P-256', [OID.secp384r1]: 'P-384' };
const OID_BY_CURVE: Record<Curve, string> = { 'P-256': OID.prime256v1, 'P-384': OID.secp384r1 };

function nobleCurve(c: Curve): typeof p256 {
  return c === 'P-256' ? p256 : p384;
}

/** Reads a private key from PEM ("PRIVATE KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY") or PKCS#8 DER. */
export function parsePrivateKey(input: string | Uint8Array): PrivateKey {
  if (typeof input !== 'string') return parsePkcs8(input);
  const block = parsePem(input).find((b) => b.label.endsWith('PRIVATE KEY'));
  if (block === undefined) throw new DerError('no PRIVATE KEY block in PEM');
  switch (block.label) {
    case 'PRIVATE KEY':
      return parsePkcs8(block.der);
    case 'EC PRIVATE KEY':
      return ecPrivateKey(block.der, undefined);
    case 'RSA PRIVATE KEY':
      return rsaPrivateKey(block.der);
    default:
      throw new DerError(`unsupported key type '${block.label}'`);
  }
}

function parsePkcs8(bytes: Uint8Array): PrivateKey {
  const [, alg, key] = children(expect(readDer(bytes), Tag.SEQUENCE, 'PrivateKeyInfo'));
  const [algOid, params] = children(expect(alg, Tag.SEQUENCE, 'AlgorithmIdentifier'));
  const keyBytes = content(expect(key, Tag.OCTET_STRING, 'privateKey'));
  switch (oid(algOid!)) {
    case OID.ecPublicKey:
      return ecPrivateKey(keyBytes, params === undefined ? undefined : oid(params));
    case OID.ed25519: {
      const seed = content(expect(readDer(keyBytes), Tag.OCTET_STRING, 'Ed25519 key')).slice();
      if (seed.length !== 32) throw new DerError('Ed25519 key must be 32 bytes');
      return ed25519PrivateKey(seed);
    }
    case OID.rsaEncryption:
      return rsaPrivateKey(keyBytes);
    default:
      throw new DerError(`unsupported private key algorithm ${oid(algOid!)}`);
  }
}

/** RFC 5915 ECPrivateKey; the curve comes from PKCS#8 parameters or the key's own [0] field. */
function ecPrivateKey(bytes: Uint8Array, curveOid: string | undefined): PrivateKey {
  const fields = children(expect(readDer(bytes), Tag.SEQUENCE, 'ECPrivateKey'));
  const d = content(expect(fields[1], Tag.OCTET_STRING, 'privateKey')).slice();
  for (const f of fields.slice(2)) if (f.tag === 0xa0) curveOid ??= oid(readDer(f.buf, f.contentStart, f.end));
  const curve = curveOid === undefined ? undefined : CURVE_BY_OID[curveOid];
  if (curve === undefined) throw new DerError(`unsupported EC curve ${curveOid ?? '(none)'}`);
  return ecPrivateKeyFromScalar(curve, d);
}

export function ecPrivateKeyFromScalar(curve: Curve, d: Uint8Array): PrivateKey {
  const point = nobleCurve(curve).getPublicKey(d, false);
  const alg = der.seq(der.oidBytes(OID.ecPublicKey), der.oidBytes(OID_BY_CURVE[curve]));
  const pkcs8 = der.seq(der.uint(Uint8Array.of(0)), alg, der.octets(der.seq(der.uint(Uint8Array.of(1)), der.octets(d), der.tlv(0xa1, der.bits(point)))));
  return { type: 'ec', curve, d, publicKey: { type: 'ec', curve, point, spki: der.seq(alg, der.bits(point)) }, pkcs8 };
}

export function ed25519PrivateKey(seed: Uint8Array): PrivateKey {
  const key = ed25519.getPublicKey(seed);
  const alg = der.seq(der.oidBytes(OID.ed25519));
  const pkcs8 = der.seq(der.uint(Uint8Array.of(0)), alg, der.octets(der.octets(seed)));
  return { type: 'ed25519', seed, publicKey: { type: 'ed25519', key, spki: der.seq(alg, der.bits(key)) }, pkcs8 };
}

/** RFC 8017 A.1.2 RSAPrivateKey. */
function rsaPrivateKey(bytes: Uint8Array): PrivateKey {
  const f = children(expect(readDer(bytes), Tag.SEQUENCE, 'RSAPrivateKey'));
  const n = bigint(f[1]!);
  const e = bigint(f[2]!);
  const d = bigint(f[3]!);
  const alg = der.seq(der.oidBytes(OID.rsaEncryption), der.tlv(Tag.NULL));
  const pkcs8 = der.seq(der.uint(Uint8Array.of(0)), alg, der.octets(bytes));
  return { type: 'rsa', n, e, d, publicKey: rsaPublicKey(n, e, der.seq(alg, der.bits(der.seq(uintOf(n), uintOf(e))))), pkcs8 };
}

function uintOf(v: bigint): Uint8Array {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return der.uint(new Uint8Array(Buffer.from(hex, 'hex')));
}

function rsaPublicKey(n: bigint, e: bigint, spki: Uint8Array): PublicKey {
  return { type: 'rsa', n, e, bits: n.toString(2).length, spki };
}

/** Reads a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7). */
export function parseSpki(bytes: Uint8Array): PublicKey {
  const node = readDer(bytes);
  return spkiFromNode(node);
}

export function spkiFromNode(node: der.DerNode): PublicKey {
  const [alg, key] = children(expect(node, Tag.SEQUENCE, 'SubjectPublicKeyInfo'));
  const [algOid, params] = children(expect(alg, Tag.SEQUENCE, 'AlgorithmIdentifier'));
  const keyBits = bitString(key!);
  const spki = encoding(node).slice();
  switch (oid(algOid!)) {
    case OID.ecPublicKey: {
      const curve = params === undefined ? undefined : CURVE_BY_OID[oid(params)];
      if (curve === undefined) throw new DerError('unsupported EC curve');
      if (keyBits[0] !== 4) throw new DerError('EC public key must be uncompressed');
      return { type: 'ec', curve, point: keyBits.slice(), spki };
    }
    case OID.ed25519:
      if (keyBits.length !== 32) throw new DerError('Ed25519 public key must be 32 bytes');
      return { type: 'ed25519', key: keyBits.slice(), spki };
    case OID.rsaEncryption: {
      const [n, e] = children(expect(readDer(keyBits), Tag.SEQUENCE, 'RSAPublicKey'));
      return rsaPublicKey(bigint(n!), bigint(e!), spki);
    }
    default:
      throw new DerError(`unsupported public key algorithm ${oid(algOid!)}`);
  }
}

/** A new ECDSA P-256 (or P-384) private key. */
export function generateEcKey(curve: Curve = 'P-256'): PrivateKey {
  return ecPrivateKeyFromScalar(curve, nobleCurve(curve).utils.randomSecretKey());
}
