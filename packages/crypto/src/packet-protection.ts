// RFC 9001 §5: QUIC packet protection — Initial secrets, packet keys, AEAD over the packet payload, header
// protection, and key update (§6) — for QUIC v1 and v2 (RFC 9369 §3.3).

import { QUIC_V2 } from '@gquic/wire';
import { TLS_AES_128_GCM_SHA256, type CipherSuite } from './cipher-suites.js';
import { hkdfExpandLabel } from './hkdf-label.js';
import { AEAD_NONCE_LENGTH, AEAD_TAG_LENGTH, type Aead, type CryptoProvider, type HeaderProtection } from './provider.js';

/** RFC 9001 §5.2 */
export const INITIAL_SALT_V1 = hex('38762cf7f55934b34d179ae6a4c80cadccbb7f0a');
/** RFC 9369 §3.3.1 */
export const INITIAL_SALT_V2 = hex('0dede3def700a6db819381be6e269dcbf9bd2ed9');

interface VersionLabels {
  key: string;
  iv: string;
  hp: string;
  ku: string;
}
const LABELS_V1: VersionLabels = { key: 'quic key', iv: 'quic iv', hp: 'quic hp', ku: 'quic ku' };
// RFC 9369 §3.3.2
const LABELS_V2: VersionLabels = { key: 'quicv2 key', iv: 'quicv2 iv', hp: 'quicv2 hp', ku: 'quicv2 ku' };

function labels(version: number): VersionLabels {
  return version === QUIC_V2 ? LABELS_V2 : LABELS_V1;
}

/** RFC 9001 §5.2: the client and server Initial secrets from the client's first Destination Connection ID. */
export function initialSecrets(p: CryptoProvider, version: number, clientDcid: Uint8Array): { client: Uint8Array; server: Uint8Array } {
  const initial = p.hkdfExtract('sha256', version === QUIC_V2 ? INITIAL_SALT_V2 : INITIAL_SALT_V1, clientDcid);
  return {
    client: hkdfExpandLabel(p, 'sha256', initial, 'client in', EMPTY, 32),
    server: hkdfExpandLabel(p, 'sha256', initial, 'server in', EMPTY, 32),
  };
}

const EMPTY = new Uint8Array(0);

/**
 * The keys protecting packets in one direction for one key phase: AEAD key and IV (expanded once), the
 * header protection key, and the secret the next key phase derives from (§6.1).
 */
export class PacketKeys {
  readonly aead: Aead;
  readonly iv: Uint8Array;
  readonly hp: HeaderProtection;
  /** Packets sealed (confidentiality limit) / failed to open (integrity limit) with these keys. */
  sealed = 0;
  openFailures = 0;
  private readonly nonce = new Uint8Array(AEAD_NONCE_LENGTH);
  private readonly mask = new Uint8Array(5);

  private constructor(
    readonly provider: CryptoProvider,
    readonly version: number,
    readonly suite: CipherSuite,
    readonly secret: Uint8Array,
    hp: HeaderProtection,
    /** The header protection key, kept for the next key phase (it does not change on key update). */
    readonly hpKey: Uint8Array,
  ) {
    const l = labels(version);
    this.aead = provider.aead(suite.aead, hkdfExpandLabel(provider, suite.hash, secret, l.key, EMPTY, suite.keyLength));
    this.iv = hkdfExpandLabel(provider, suite.hash, secret, l.iv, EMPTY, AEAD_NONCE_LENGTH);
    this.hp = hp;
  }

  /** Keys from a traffic secret (RFC 9001 §5.1). */
  static fromSecret(p: CryptoProvider, version: number, suite: CipherSuite, secret: Uint8Array): PacketKeys {
    const hpKey = hkdfExpandLabel(p, suite.hash, secret, labels(version).hp, EMPTY, suite.keyLength);
    return new PacketKeys(p, version, suite, secret, p.headerProtection(suite.headerProtection, hpKey), hpKey);
  }

  /** Initial keys for both directions (RFC 9001 §5.2; AEAD_AES_128_GCM). */
  static initial(p: CryptoProvider, version: number, clientDcid: Uint8Array): { client: PacketKeys; server: PacketKeys } {
    const s = initialSecrets(p, version, clientDcid);
    return {
      client: PacketKeys.fromSecret(p, version, TLS_AES_128_GCM_SHA256, s.client),
      server: PacketKeys.fromSecret(p, version, TLS_AES_128_GCM_SHA256, s.server),
    };
  }

  /** RFC 9001 §6.1: the next key phase — a new secret from "quic ku", the header protection key unchanged. */
  next(): PacketKeys {
    const p = this.provider;
    const secret = hkdfExpandLabel(p, this.suite.hash, this.secret, labels(this.version).ku, EMPTY, this.suite.hashLength);
    return new PacketKeys(p, this.version, this.suite, secret, this.hp, this.hpKey);
  }

  /** RFC 9001 §5.3: the nonce is the IV XOR the packet number (left-padded to the IV length). */
  nonceFor(pn: number): Uint8Array {
    const n = this.nonce;
    n.set(this.iv);
    let hi = Math.floor(pn / 0x1_0000_0000);
    let lo = pn >>> 0;
    for (let i = 11; i >= 8; i--) {
      n[i]! ^= lo & 0xff;
      lo >>>= 8;
    }
    for (let i = 7; i >= 4; i--) {
      n[i]! ^= hi & 0xff;
      hi >>>= 8;
    }
    return n;
  }

  /**
   * Protects a packet in place (RFC 9001 §5.3, §5.4): `buf[start, payloadEnd)` holds the unprotected header
   * (with the packet number at `pnOffset`, `pnLength` bytes) and the plaintext payload; the AEAD tag is written
   * at `payloadEnd`. The caller ensures room for the tag and a payload long enough for the sample (§5.4.2).
   * Returns the packet's end.
   */
  protect(buf: Uint8Array, start: number, pnOffset: number, pnLength: number, pn: number, payloadEnd: number): number {
    const payloadOffset = pnOffset + pnLength;
    this.aead.seal(this.nonceFor(pn), buf.subarray(start, payloadOffset), buf, payloadOffset, payloadEnd - payloadOffset);
    this.sealed++;
    this.applyHeaderProtection(buf, start, pnOffset, pnLength);
    return payloadEnd + AEAD_TAG_LENGTH;
  }

  private applyHeaderProtection(buf: Uint8Array, start: number, pnOffset: number, pnLength: number): void {
    const m = this.mask;
    this.hp.mask(buf.subarray(pnOffset + 4, pnOffset + 20), m);
    // §5.4.1: 4 bits for long headers, 5 for short.
    buf[start]! ^= m[0]! & ((buf[start]! & 0x80) !== 0 ? 0x0f : 0x1f);
    for (let i = 0; i < pnLength; i++) buf[pnOffset + i]! ^= m[1 + i]!;
  }

  /**
   * Removes header protection in place: unmasks the first byte and the packet number (whose length is only
   * known after unmasking). Returns the packet number length. The packet must extend at least 20 bytes past
   * `pnOffset` (parsePacketHeader checks this).
   */
  removeHeaderProtection(buf: Uint8Array, start: number, pnOffset: number): number {
    const m = this.mask;
    this.hp.mask(buf.subarray(pnOffset + 4, pnOffset + 20), m);
    buf[start]! ^= m[0]! & ((buf[start]! & 0x80) !== 0 ? 0x0f : 0x1f);
    const pnLength = (buf[start]! & 0x03) + 1;
    for (let i = 0; i < pnLength; i++) buf[pnOffset + i]! ^= m[1 + i]!;
    return pnLength;
  }

  /**
   * Decrypts a packet's payload in place once header protection is removed: the header is
   * `buf[start, payloadOffset)`, ciphertext and tag run to `end`. Returns the plaintext end, or -1 when the
   * packet does not authenticate (it must then be dropped; §5.5 and the integrity limit).
   */
  open(buf: Uint8Array, start: number, payloadOffset: number, end: number, pn: number): number {
    if (!this.aead.open(this.nonceFor(pn), buf.subarray(start, payloadOffset), buf, payloadOffset, end - payloadOffset)) {
      this.openFailures++;
      return -1;
    }
    return end - AEAD_TAG_LENGTH;
  }
}

// RFC 9001 §5.8 and RFC 9369 §3.3.3: the fixed key and nonce of the Retry Integrity Tag (AEAD_AES_128_GCM).
const RETRY_V1 = { key: hex('be0c690b9f66575a1d766b54e368c84e'), nonce: hex('461599d35d632bf2239825bb') };
const RETRY_V2 = { key: hex('8fb4b01b56ac48e260fbcbcead7ccc92'), nonce: hex('d86969bc2d7c6d9990efb04a') };

/** The Retry Integrity Tag over a Retry pseudo-packet (`retryPseudoPacket` in @gquic/wire). */
export function retryIntegrityTag(p: CryptoProvider, version: number, pseudoPacket: Uint8Array): Uint8Array {
  const k = version === QUIC_V2 ? RETRY_V2 : RETRY_V1;
  const tag = new Uint8Array(AEAD_TAG_LENGTH);
  p.aead('aes-128-gcm', k.key).seal(k.nonce, pseudoPacket, tag, 0, 0);
  return tag;
}

function hex(s: string): Uint8Array {
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}
