// The node:crypto (OpenSSL) provider: the default on Node.
//
// Per-packet costs: Node offers no reusable AEAD context, so seal/open create one cipher object per packet with
// a KeyObject made once per epoch (OpenSSL's AES key schedule is a few AES-NI instructions). Header protection
// uses the JavaScript masks of header-protection-js.ts, measured faster than any call into OpenSSL for one
// 16-byte block; `OpenSslAesHeaderProtection` (one long-lived ECB cipher per epoch, fed sample after sample —
// ECB has no chaining) is kept for the benchmark that shows it.

import {
  constants,
  createPrivateKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPairSync,
  randomFillSync,
  type Cipher,
  type KeyObject,
  type Hash as OpenSslHash,
} from 'node:crypto';
import {
  AEAD_TAG_LENGTH,
  CryptoError,
  hashLength,
  type Aead,
  type CryptoProvider,
  type Hash,
  type HashName,
  type HeaderProtection,
  type HeaderProtectionName,
  type KeyShare,
  type NamedGroupName,
  type AeadName,
} from './provider.js';
import { JsAesHeaderProtection, JsChachaHeaderProtection } from './header-protection-js.js';
import type { PrivateKey, PublicKey } from './keys.js';
import type { SignatureAlgorithm } from './signatures.js';


function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

class NodeAead implements Aead {
  private readonly key: KeyObject;
  constructor(
    private readonly alg: AeadName,
    key: Uint8Array,
  ) {
    this.key = createSecretKey(key);
  }

  seal(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): void {
    const c = createCipheriv(this.alg as 'aes-128-gcm', this.key, nonce, { authTagLength: AEAD_TAG_LENGTH });
    c.setAAD(aad);
    const out = c.update(buf.subarray(offset, offset + length));
    const rest = c.final();
    buf.set(out, offset);
    if (rest.length > 0) buf.set(rest, offset + out.length);
    buf.set(c.getAuthTag(), offset + length);
  }

  open(nonce: Uint8Array, aad: Uint8Array, buf: Uint8Array, offset: number, length: number): boolean {
    const n = length - AEAD_TAG_LENGTH;
    if (n < 0) return false;
    const d = createDecipheriv(this.alg as 'aes-128-gcm', this.key, nonce, { authTagLength: AEAD_TAG_LENGTH });
    d.setAuthTag(buf.subarray(offset + n, offset + length));
    d.setAAD(aad);
    const out = d.update(buf.subarray(offset, offset + n));
    try {
      d.final();
    } catch {
      return false;
    }
    buf.set(out, offset);
    return true;
  }
}

/** AES header protection through OpenSSL: one ECB cipher per epoch, never one per packet. */
export class OpenSslAesHeaderProtection implements HeaderProtection {
  private readonly ecb: Cipher;
  constructor(alg: 'aes-128' | 'aes-256', key: Uint8Array) {
    this.ecb = createCipheriv(alg === 'aes-128' ? 'aes-128-ecb' : 'aes-256-ecb', key, null);
    this.ecb.setAutoPadding(false);
  }
  mask(sample: Uint8Array, out: Uint8Array): void {
    const m = this.ecb.update(sample.length === 16 ? sample : sample.subarray(0, 16));
    for (let i = 0; i < 5; i++) out[i] = m[i]!;
  }
}

class NodeHash implements Hash {
  constructor(private readonly h: OpenSslHash) {}
  update(data: Uint8Array): this {
    this.h.update(data);
    return this;
  }
  digest(): Uint8Array {
    return bytes(this.h.copy().digest());
  }
  clone(): Hash {
    return new NodeHash(this.h.copy());
  }
}

class NodeX25519 implements KeyShare {
  readonly group = 'x25519' as const;
  readonly publicKey: Uint8Array;
  private readonly privateKey: KeyObject;
  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync('x25519');
    this.privateKey = privateKey;
    // JWK, not SPKI DER: measured ~1 µs to export and ~9 µs to import here, against ~70-80 µs for DER.
    this.publicKey = bytes(Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url'));
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    if (peer.length !== 32) throw new CryptoError('x25519: public key must be 32 bytes');
    let secret: Uint8Array;
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer).toString('base64url') }, format: 'jwk' });
      secret = bytes(diffieHellman({ privateKey: this.privateKey, publicKey }));
    } catch (e) {
      throw new CryptoError(`x25519: ${(e as Error).message}`);
    }
    // RFC 8446 §7.4.2: an all-zero shared secret must be refused.
    if (secret.every((b) => b === 0)) throw new CryptoError('x25519: all-zero shared secret');
    return secret;
  }
}

class NodeEcdh implements KeyShare {
  readonly publicKey: Uint8Array;
  private readonly ecdh;
  constructor(readonly group: 'secp256r1' | 'secp384r1') {
    this.ecdh = createECDH(group === 'secp256r1' ? 'prime256v1' : 'secp384r1');
    this.publicKey = bytes(this.ecdh.generateKeys());
  }
  deriveSecret(peer: Uint8Array): Uint8Array {
    // RFC 8446 §4.2.8.2: only the uncompressed form is allowed.
    const len = this.group === 'secp256r1' ? 65 : 97;
    if (peer.length !== len || peer[0] !== 4) throw new CryptoError(`${this.group}: public key must be an uncompressed point`);
    try {
      return bytes(this.ecdh.computeSecret(peer));
    } catch (e) {
      throw new CryptoError(`${this.group}: ${(e as Error).message}`);
    }
  }
}

// Random bytes are drawn from a pool refilled 4 KiB at a time: one randomFillSync call costs several µs
// whatever its size, and a handshake asks for a few dozen bytes several times. Each byte is handed out once.
const RANDOM_POOL_SIZE = 4096;
const randomPool = new Uint8Array(RANDOM_POOL_SIZE);
let randomPoolAt = RANDOM_POOL_SIZE;

function randomFromPool(n: number): Uint8Array {
  if (n > RANDOM_POOL_SIZE / 4) return randomFillSync(new Uint8Array(n));
  if (randomPoolAt + n > RANDOM_POOL_SIZE) {
    randomFillSync(randomPool);
    randomPoolAt = 0;
  }
  const out = randomPool.slice(randomPoolAt, randomPoolAt + n);
  randomPool.fill(0, randomPoolAt, randomPoolAt + n);
  randomPoolAt += n;
  return out;
}

// KeyObjects made once per key. Importing a public key costs 60-120 µs in OpenSSL 3 (measured here for P-256
// SPKI), so public keys are also cached by their SPKI bytes: a client reconnecting to the same server, or a
// server seeing the same client certificate, verifies with the KeyObject made the first time.
const privateKeyObjects = new WeakMap<PrivateKey, KeyObject>();
const publicKeyObjects = new WeakMap<PublicKey, KeyObject>();
const PUBLIC_KEY_CACHE_SIZE = 256;
const publicKeysBySpki = new Map<string, KeyObject>();

function privateKeyObject(k: PrivateKey): KeyObject {
  let o = privateKeyObjects.get(k);
  if (o === undefined) {
    o = createPrivateKey({ key: Buffer.from(k.pkcs8), format: 'der', type: 'pkcs8' });
    privateKeyObjects.set(k, o);
  }
  return o;
}

function publicKeyObject(k: PublicKey): KeyObject {
  let o = publicKeyObjects.get(k);
  if (o !== undefined) return o;
  const id = Buffer.from(k.spki).toString('base64');
  o = publicKeysBySpki.get(id);
  if (o === undefined) {
    o = createPublicKey({ key: Buffer.from(k.spki), format: 'der', type: 'spki' });
    if (publicKeysBySpki.size >= PUBLIC_KEY_CACHE_SIZE) publicKeysBySpki.delete(publicKeysBySpki.keys().next().value!);
    publicKeysBySpki.set(id, o);
  }
  publicKeyObjects.set(k, o);
  return o;
}

function keyFits(alg: SignatureAlgorithm, type: PrivateKey['type']): boolean {
  return alg.kind === 'ecdsa' ? type === 'ec' : alg.kind === 'ed25519' ? type === 'ed25519' : type === 'rsa';
}

function signOptions(alg: SignatureAlgorithm, key: KeyObject): { key: KeyObject; dsaEncoding?: 'der'; padding?: number; saltLength?: number } {
  switch (alg.kind) {
    case 'ecdsa':
      return { key, dsaEncoding: 'der' };
    case 'rsa-pss':
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    case 'rsa-pkcs1':
      return { key, padding: constants.RSA_PKCS1_PADDING };
    case 'ed25519':
      return { key };
  }
}

export const nodeProvider: CryptoProvider = {
  name: 'node',
  randomBytes(n) {
    return randomFromPool(n);
  },
  hash(alg, data) {
    return bytes(createHash(alg).update(data).digest());
  },
  createHash(alg: HashName) {
    return new NodeHash(createHash(alg));
  },
  hmac(alg, key, data) {
    return bytes(createHmac(alg, key).update(data).digest());
  },
  hkdfExtract(alg, salt, ikm) {
    // HKDF-Extract is HMAC(salt, IKM) (RFC 5869 §2.2); an empty salt means HashLen zeros.
    return bytes(createHmac(alg, salt.length === 0 ? new Uint8Array(hashLength(alg)) : salt).update(ikm).digest());
  },
  hkdfExpand(alg, prk, info, length) {
    // hkdfSync would extract again; expand-only is T(n) = HMAC(PRK, T(n-1) | info | n) (RFC 5869 §2.3).
    return hkdfExpandWithHmac((data) => bytes(createHmac(alg, prk).update(data).digest()), hashLength(alg), info, length);
  },
  aead(alg, key) {
    return new NodeAead(alg, key);
  },
  headerProtection(alg: HeaderProtectionName, key) {
    return alg === 'chacha20' ? new JsChachaHeaderProtection(key) : new JsAesHeaderProtection(key);
  },
  generateKeyShare(group: NamedGroupName) {
    return group === 'x25519' ? new NodeX25519() : new NodeEcdh(group);
  },
  sign(alg, key, data) {
    if (!keyFits(alg, key.type)) throw new CryptoError(`a ${key.type} key cannot make ${alg.kind} signatures`);
    return bytes(cryptoSign(alg.kind === 'ed25519' ? null : alg.hash, data, signOptions(alg, privateKeyObject(key))));
  },
  verify(alg, key, data, signature) {
    if (!keyFits(alg, key.type)) return false;
    try {
      return cryptoVerify(alg.kind === 'ed25519' ? null : alg.hash, data, signOptions(alg, publicKeyObject(key)), signature);
    } catch {
      return false;
    }
  },
};

/** RFC 5869 §2.3 HKDF-Expand over an HMAC function. */
export function hkdfExpandWithHmac(hmac: (data: Uint8Array) => Uint8Array, hashLen: number, info: Uint8Array, length: number): Uint8Array {
  if (length > 255 * hashLen) throw new RangeError('HKDF-Expand: length too large');
  const out = new Uint8Array(length);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, pos = 0; pos < length; i++) {
    const input = new Uint8Array(t.length + info.length + 1);
    input.set(t);
    input.set(info, t.length);
    input[input.length - 1] = i;
    t = hmac(input);
    out.set(t.subarray(0, Math.min(hashLen, length - pos)), pos);
    pos += hashLen;
  }
  return out;
}
