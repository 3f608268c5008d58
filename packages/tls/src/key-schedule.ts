// RFC 8446 §7.1: the TLS 1.3 key schedule, and the transcript hash (§4.4.1) it is computed over.

import { hkdfExpandLabel, type CryptoProvider, type Hash, type HashName } from '@gquic/crypto';
import { HandshakeType } from './messages.js';

const EMPTY = new Uint8Array(0);

export class KeySchedule {
  readonly hashLength: number;
  private transcriptHash: Hash;
  private secret: Uint8Array;
  /** early_secret, then handshake_secret, then master_secret. */
  stage: 'early' | 'handshake' | 'master' = 'early';

  constructor(
    readonly provider: CryptoProvider,
    readonly hash: HashName,
    psk: Uint8Array | null = null,
  ) {
    this.hashLength = hash === 'sha256' ? 32 : 48;
    this.transcriptHash = provider.createHash(hash);
    // early_secret = HKDF-Extract(0, PSK or 0)
    this.secret = provider.hkdfExtract(hash, new Uint8Array(this.hashLength), psk ?? new Uint8Array(this.hashLength));
  }

  /** The current stage's secret (for tests against RFC 8448). */
  get currentSecret(): Uint8Array {
    return this.secret;
  }

  /** Adds a whole handshake message (with its header) to the transcript. */
  addMessage(message: Uint8Array): void {
    this.transcriptHash.update(message);
  }

  transcript(): Uint8Array {
    return this.transcriptHash.digest();
  }

  /** The transcript hash as if `partial` were appended (the PSK binder's truncated ClientHello, §4.2.11.2). */
  transcriptWith(partial: Uint8Array): Uint8Array {
    return this.transcriptHash.clone().update(partial).digest();
  }

  /**
   * §4.4.1: after a HelloRetryRequest the first ClientHello is replaced by message_hash(Hash(ClientHello1)).
   * Call with the transcript holding exactly ClientHello1.
   */
  replaceWithMessageHash(): void {
    const h = this.transcript();
    this.transcriptHash = this.provider.createHash(this.hash);
    this.transcriptHash.update(Uint8Array.of(HandshakeType.message_hash, 0, 0, h.length));
    this.transcriptHash.update(h);
  }

  /** Derive-Secret(Secret, Label, Messages) with the transcript hash given. */
  deriveSecret(secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
    return hkdfExpandLabel(this.provider, this.hash, secret, label, transcriptHash, this.hashLength);
  }

  private emptyHash(): Uint8Array {
    return this.provider.hash(this.hash, EMPTY);
  }

  /** Derive-Secret(early_secret, "ext binder" | "res binder", "") */
  binderKey(resumption: boolean): Uint8Array {
    this.expectStage('early');
    return this.deriveSecret(this.secret, resumption ? 'res binder' : 'ext binder', this.emptyHash());
  }

  /** client_early_traffic_secret over the ClientHello. */
  clientEarlyTrafficSecret(): Uint8Array {
    this.expectStage('early');
    return this.deriveSecret(this.secret, 'c e traffic', this.transcript());
  }

  /** handshake_secret = HKDF-Extract(Derive-Secret(early_secret, "derived", ""), (EC)DHE). */
  enterHandshake(sharedSecret: Uint8Array): void {
    this.expectStage('early');
    this.secret = this.provider.hkdfExtract(this.hash, this.deriveSecret(this.secret, 'derived', this.emptyHash()), sharedSecret);
    this.stage = 'handshake';
  }

  /** client/server_handshake_traffic_secret over ClientHello..ServerHello. */
  handshakeTrafficSecrets(): { client: Uint8Array; server: Uint8Array } {
    this.expectStage('handshake');
    const h = this.transcript();
    return { client: this.deriveSecret(this.secret, 'c hs traffic', h), server: this.deriveSecret(this.secret, 's hs traffic', h) };
  }

  /** master_secret = HKDF-Extract(Derive-Secret(handshake_secret, "derived", ""), 0). */
  enterMaster(): void {
    this.expectStage('handshake');
    this.secret = this.provider.hkdfExtract(this.hash, this.deriveSecret(this.secret, 'derived', this.emptyHash()), new Uint8Array(this.hashLength));
    this.stage = 'master';
  }

  /** Application traffic and exporter secrets over ClientHello..server Finished. */
  applicationSecrets(): { client: Uint8Array; server: Uint8Array; exporter: Uint8Array } {
    this.expectStage('master');
    const h = this.transcript();
    return {
      client: this.deriveSecret(this.secret, 'c ap traffic', h),
      server: this.deriveSecret(this.secret, 's ap traffic', h),
      exporter: this.deriveSecret(this.secret, 'exp master', h),
    };
  }

  /** resumption_master_secret over ClientHello..client Finished. */
  resumptionMasterSecret(): Uint8Array {
    this.expectStage('master');
    return this.deriveSecret(this.secret, 'res master', this.transcript());
  }

  /** §4.6.1: the PSK a ticket stands for. */
  ticketPsk(resumptionMasterSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
    return hkdfExpandLabel(this.provider, this.hash, resumptionMasterSecret, 'resumption', nonce, this.hashLength);
  }

  /** §4.4.4: verify_data = HMAC(finished_key, transcript hash). */
  finishedVerifyData(baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
    const finishedKey = hkdfExpandLabel(this.provider, this.hash, baseKey, 'finished', EMPTY, this.hashLength);
    return this.provider.hmac(this.hash, finishedKey, transcriptHash);
  }

  /** RFC 8446 §7.5: TLS-Exporter(label, context, length). */
  exportKeyingMaterial(exporterMasterSecret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
    const s = this.deriveSecret(exporterMasterSecret, label, this.emptyHash());
    return hkdfExpandLabel(this.provider, this.hash, s, 'exporter', this.provider.hash(this.hash, context), length);
  }

  private expectStage(s: KeySchedule['stage']): void {
    if (this.stage !== s) throw new Error(`key schedule: in stage ${this.stage}, expected ${s}`);
  }
}
