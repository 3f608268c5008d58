// The crypto provider interface: everything QUIC and TLS 1.3 need from primitives, with two implementations
// (node:crypto in node-provider.ts, pure-JS @noble in noble-provider.ts) that must agree byte for byte.

import type { PrivateKey, PublicKey } from './keys.js';
import type { SignatureAlgorithm } from './signatures.js';

export type HashName = 'sha256' | 'sha384';
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type HeaderProtectionName = 'aes-128' | 'aes-256' | 'chacha20';
export type NamedGroupName = 'x25519' | 'secp256r1' | 'secp384r1';

export const AEAD_TAG_LENGTH = 16;
export const AEAD_NONCE_LENGTH = 12;

/**
 * An AEAD with its key expanded once (per epoch). Both operations work in place on a caller-owned buffer, so a
 * packet is encrypted where it was built.
 */
export interface Aead {
  /** Encrypts buf[offset, offset + length) in place and writes the 16-byte tag right after it. */
  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void;
  /**
   * Decrypts buf[offset, offset + length) — ciphertext followed by the tag — in place. Returns false, without
   * throwing, when authentication fails (forged or corrupted packets are expected input).
   */
  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean;
}

/** RFC 9001 §5.4.3/§5.4.4: the header protection mask from a 16-byte sample. */
export interface HeaderProtection {
  /** Writes the first 5 bytes of the mask for `sample` (16 bytes) into `out`. */
  mask(sample: Uint8Array, out: Uint8Array): void;
}

/** An incremental hash whose intermediate values can be read (the TLS transcript hash). */
export interface Hash {
  update(data: Uint8Array): this;
  /** The digest of everything so far; the hash stays usable. */
  digest(): Uint8Array;
  clone(): Hash;
}

/** One side of an ephemeral key exchange (RFC 8446 §4.2.8). */
export interface KeyShare {
  readonly group: NamedGroupName;
  /** X25519: 32 bytes; P-256/P-384: the uncompressed point (0x04 || x || y). */
  readonly publicKey: Uint8Array;
  /**
   * The shared secret with the peer's public key (for ECDH, the x-coordinate). Throws CryptoError for an
   * invalid point or an all-zero X25519 result.
   */
  deriveSecret(peerPublicKey: Uint8Array): Uint8Array;
}

export interface CryptoProvider {
  readonly name: string;
  randomBytes(n: number): Uint8Array;
  hash(alg: HashName, data: Uint8Array): Uint8Array;
  createHash(alg: HashName): Hash;
  hmac(alg: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(alg: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(alg: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  aead(alg: AeadName, key: Uint8Array): Aead;
  headerProtection(alg: HeaderProtectionName, key: Uint8Array): HeaderProtection;
  generateKeyShare(group: NamedGroupName): KeyShare;
  /** Signs `data` (hashing it as `alg` says). Throws CryptoError if the key does not fit the algorithm. */
  sign(alg: SignatureAlgorithm, key: PrivateKey, data: Uint8Array): Uint8Array;
  /** Verifies a signature; false for a wrong, malformed or mismatched one (never throws on peer input). */
  verify(alg: SignatureAlgorithm, key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean;
}

/** A failure inside a crypto operation on peer input (bad point, bad signature encoding...). */
export class CryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoError';
  }
}

export function hashLength(alg: HashName): 32 | 48 {
  return alg === 'sha256' ? 32 : 48;
}

/** Constant-time comparison of equal-length byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
