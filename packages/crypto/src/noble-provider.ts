// The pure-JS provider on @noble/ciphers, @noble/curves and @noble/hashes: runs wherever node:crypto does not.
//
// AES-GCM is assembled from noble's AES primitives so that the key is expanded (and the GHASH tables built)
// once per epoch rather than once per packet, as `gcm(key, nonce)` would: per packet only the counter blocks,
// the GHASH state and the tag mask are computed.

import { unsafe as aes } from '@noble/ciphers/aes.js';
import { GHASH } from '@noble/ciphers/_polyval.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ed25519, x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { expand as hkdfExpand, extract as hkdfExtract } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { PKCS1_SHA256, PKCS1_SHA384, PKCS1_SHA512, PSS, mgf1 } from 'micro-rsa-dsa-dh/rsa.js';
import type { PrivateKey, PublicKey } from './keys.js';
import type { SignatureAlgorithm, SignatureHash } from './signatures.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { JsAesHeaderProtection, JsChachaHeaderProtection } from './header-protection-js.js';
import {
  AEAD_TAG_LENGTH,
  CryptoError,
  equalBytes,
  type Aead,
  type AeadName,
  type CryptoProvider,
  type Hash,
  type HashName,
  type KeyShare,
  type NamedGroupName,
} from './provider.js';

const HASHES = { sha256, sha384 } as const;

/** GHASH with its multiplication tables kept across messages. */
class ReusableGhash extends GHASH {
  reset(): void {
    this.s0 = 0;
    this.s1 = 0;
    this.s2 = 0;
    this.s3 = 0;
    this.finished = false;
  }
}

/** A 16-byte-aligned scratch buffer that grows to the largest packet seen. */
class Scratch {
  buf = new Uint8Array(2048);
  get(n: number): Uint8Array {
    if (n > this.buf.length) this.buf = new Uint8Array(Math.max(n, 2 * this.buf.length));
    return this.buf.subarray(0, n);
  }
}

class NobleGcm implements Aead {
  private readonly xk: Uint32Array;
  private readonly ghash: ReusableGhash;
  private readonly counter = new Uint8Array(16);
  private readonly tagMask = new Uint8Array(16);
  private readonly tag = new Uint8Array(16);
  private readonly lengths = new Uint8Array(16);
  private readonly lengthsView = new DataView(this.lengths.buffer);
  private readonly scratch = new Scratch();

  constructor(key: Uint8Array) {
    this.xk = aes.expandKeyLE(key);
    const h = aes.encryptBlock(this.xk, new Uint8Array(16));
    this.ghash = new ReusableGhash(h, 2048);
  }

  /** Sets the counter to J0 = nonce || 1, computes the tag mask E(K, J0), leaves the counter at J0 + 1. */
  private start(nonce: Uint8Array): void {
    const c = this.counter;
    c.set(nonce);
    c[12] = 0;
    c[13] = 0;
    c[14] = 0;
    c[15] = 1;
    this.tagMask.set(c);
    aes.encryptBlock(this.xk, this.tagMask);
    c[15] = 2;
  }

  /** GHASH(aad, ciphertext) XOR the tag mask, into this.tag (NIST SP 800-38D §7.1). */
  private computeTag(aad: Uint8Array, ciphertext: Uint8Array): void {
    const g = this.ghash;
    g.reset();
    if (aad.length > 0) g.update(aad);
    if (ciphertext.length > 0) g.update(ciphertext);
    this.lengthsView.setUint32(0, Math.floor(aad.length / 0x2000_0000));
    this.lengthsView.setUint32(4, (aad.length * 8) >>> 0);
    this.lengthsView.setUint32(8, Math.floor(ciphertext.length / 0x2000_0000));
    this.lengthsView.setUint32(12, (ciphertext.length * 8) >>> 0);
    g.update(this.lengths);
    g.digestInto(this.tag);
    for (let i = 0; i < 16; i++) this.tag[i]! ^= this.tagMask[i]!;
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    this.start(nonce);
    const s = this.scratch.get(length);
    s.set(buf.subarray(offset, offset + length));
    if (length > 0) aes.ctr32(this.xk, false, this.counter, s, s);
    this.computeTag(aad, s);
    buf.set(s, offset);
    buf.set(this.tag, offset + length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    const n = length - AEAD_TAG_LENGTH;
    if (n < 0) return false;
    this.start(nonce);
    const s = this.scratch.get(n);
    s.set(buf.subarray(offset, offset + n));
    this.computeTag(aad, s);
    if (!equalBytes(this.tag, buf.subarray(offset + n, offset + length))) return false;
    if (n > 0) aes.ctr32(this.xk, false, this.counter, s, s);
    buf.set(s, offset);
    return true;
  }
}

class NobleChaChaPoly implements Aead {
  private readonly scratch = new Scratch();
  constructor(private readonly key: Uint8Array) {}

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    const out = this.scratch.get(length + AEAD_TAG_LENGTH);
    chacha20poly1305(this.key, nonce, aad).encrypt(buf.subarray(offset, offset + length), out);
    buf.set(out, offset);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    if (length < AEAD_TAG_LENGTH) return false;
    const out = this.scratch.get(length - AEAD_TAG_LENGTH);
    try {
      chacha20poly1305(this.key, nonce, aad).decrypt(buf.subarray(offset, offset + length), out);
    } catch {
      return false;
    }
    buf.set(out, offset);
    return true;
  }
}

interface NobleIncrementalHash {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
  clone(): NobleIncrementalHash;
}

class NobleHash implements Hash {
  constructor(private readonly h: NobleIncrementalHash) {}
  update(data: Uint8Array): this {
    this.h.update(data);
    return this;
  }
  digest(): Uint8Array {
    return this.h.clone().digest();
  }
  clone(): Hash {
    return new NobleHash(this.h.clone());
  }
}

class NobleX25519 implements KeyShare {
  readonly group = 'x25519' as const;
  readonly publicKey: Uint8Array;
  private readonly secretKey: Uint8Array;
  constructor() {
    this.secretKey = x25519.utils.randomSecretKey();
    this.publicKey = x25519.getPublicKey(this.secretKey);
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    if (peer.length !== 32) throw new CryptoError('x25519: public key must be 32 bytes');
    let secret: Uint8Array;
    try {
      secret = x25519.getSharedSecret(this.secretKey, peer);
    } catch (e) {
      throw new CryptoError(`x25519: ${(e as Error).message}`);
    }
    if (secret.every((b) => b === 0)) throw new CryptoError('x25519: all-zero shared secret');
    return secret;
  }
}

class NobleEcdh implements KeyShare {
  readonly publicKey: Uint8Array;
  private readonly secretKey: Uint8Array;
  private readonly curve: typeof p256;
  constructor(readonly group: 'secp256r1' | 'secp384r1') {
    this.curve = group === 'secp256r1' ? p256 : p384;
    this.secretKey = this.curve.utils.randomSecretKey();
    this.publicKey = this.curve.getPublicKey(this.secretKey, false);
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    const len = this.group === 'secp256r1' ? 65 : 97;
    if (peer.length !== len || peer[0] !== 4) throw new CryptoError(`${this.group}: public key must be an uncompressed point`);
    try {
      // The shared secret is the x-coordinate (RFC 8446 §7.4.1): drop the compressed point's prefix byte.
      return this.curve.getSharedSecret(this.secretKey, peer, true).slice(1);
    } catch (e) {
      throw new CryptoError(`${this.group}: ${(e as Error).message}`);
    }
  }
}

const SIG_HASHES = { sha256, sha384, sha512 } as const;
const PKCS1 = { sha256: PKCS1_SHA256, sha384: PKCS1_SHA384, sha512: PKCS1_SHA512 } as const;
const pssCache = new Map<SignatureHash, ReturnType<typeof PSS>>();

function pss(hash: SignatureHash): ReturnType<typeof PSS> {
  let s = pssCache.get(hash);
  if (s === undefined) {
    const h = SIG_HASHES[hash];
    s = PSS(h, mgf1(h), h.outputLen);
    pssCache.set(hash, s);
  }
  return s;
}

function nobleSign(alg: SignatureAlgorithm, key: PrivateKey, data: Uint8Array): Uint8Array {
  if (alg.kind === 'ecdsa' && key.type === 'ec') {
    const curve = key.curve === 'P-256' ? p256 : p384;
    return curve.sign(SIG_HASHES[alg.hash](data), key.d, { prehash: false, format: 'der' });
  }
  if (alg.kind === 'ed25519' && key.type === 'ed25519') return ed25519.sign(data, key.seed);
  if (alg.kind === 'rsa-pss' && key.type === 'rsa') return pss(alg.hash).sign({ n: key.n, d: key.d }, data);
  if (alg.kind === 'rsa-pkcs1' && key.type === 'rsa') return PKCS1[alg.hash].sign({ n: key.n, d: key.d }, data);
  throw new CryptoError(`a ${key.type} key cannot make ${alg.kind} signatures`);
}

function nobleVerify(alg: SignatureAlgorithm, key: PublicKey, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (alg.kind === 'ecdsa' && key.type === 'ec') {
      const curve = key.curve === 'P-256' ? p256 : p384;
      return curve.verify(signature, SIG_HASHES[alg.hash](data), key.point, { prehash: false, format: 'der', lowS: false });
    }
    if (alg.kind === 'ed25519' && key.type === 'ed25519') return ed25519.verify(signature, data, key.key);
    if (alg.kind === 'rsa-pss' && key.type === 'rsa') return pss(alg.hash).verify({ n: key.n, e: key.e }, data, signature);
    if (alg.kind === 'rsa-pkcs1' && key.type === 'rsa') return PKCS1[alg.hash].verify({ n: key.n, e: key.e }, data, signature);
  } catch {
    return false;
  }
  return false;
}

export const nobleProvider: CryptoProvider = {
  name: 'noble',
  randomBytes(n) {
    return randomBytes(n);
  },
  hash(alg, data) {
    return HASHES[alg](data);
  },
  createHash(alg: HashName) {
    return new NobleHash(HASHES[alg].create());
  },
  hmac(alg, key, data) {
    return hmac(HASHES[alg], key, data);
  },
  hkdfExtract(alg, salt, ikm) {
    return hkdfExtract(HASHES[alg], ikm, salt);
  },
  hkdfExpand(alg, prk, info, length) {
    return hkdfExpand(HASHES[alg], prk, info, length);
  },
  aead(alg: AeadName, key) {
    return alg === 'chacha20-poly1305' ? new NobleChaChaPoly(key) : new NobleGcm(key);
  },
  headerProtection(alg, key) {
    return alg === 'chacha20' ? new JsChachaHeaderProtection(key) : new JsAesHeaderProtection(key);
  },
  generateKeyShare(group: NamedGroupName) {
    return group === 'x25519' ? new NobleX25519() : new NobleEcdh(group);
  },
  sign: nobleSign,
  verify: nobleVerify,
};
