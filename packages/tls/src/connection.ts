// What the TLS client and server share: per-level CRYPTO buffers, the event queue, error latching, key logging,
// certificate messages and CertificateVerify (RFC 8446 §4.4).

import {
  CIPHER_SUITES,
  SignatureScheme,
  nodeProvider,
  schemeAlgorithm,
  schemeFitsKey,
  schemesForKey,
  type CipherSuite,
  type CryptoProvider,
  type NamedGroupName,
  type PrivateKey,
  type PublicKey,
} from '@gquic/crypto';
import { QuicError, toHex } from '@gquic/wire';
import { TlsAlert, alert } from './alerts.js';
import type { EncryptionLevel, TlsCommonConfig, TlsEvent } from './config.js';
import { CryptoReceiveBuffer, type HandshakeMessage } from './crypto-stream.js';
import type { KeySchedule } from './key-schedule.js';
import { HandshakeType, NamedGroup, encodeCertificate, encodeCertificateVerify, type Extension } from './messages.js';

export const DEFAULT_CIPHER_SUITES = [0x1301, 0x1303, 0x1302] as const;
export const DEFAULT_GROUPS: readonly NamedGroupName[] = ['x25519', 'secp256r1', 'secp384r1'];
export const DEFAULT_SIGNATURE_SCHEMES: readonly number[] = [
  SignatureScheme.ecdsa_secp256r1_sha256,
  SignatureScheme.ed25519,
  SignatureScheme.ecdsa_secp384r1_sha384,
  SignatureScheme.rsa_pss_rsae_sha256,
  SignatureScheme.rsa_pss_rsae_sha384,
  SignatureScheme.rsa_pss_rsae_sha512,
];

export const GROUP_IDS: Record<NamedGroupName, number> = { x25519: NamedGroup.x25519, secp256r1: NamedGroup.secp256r1, secp384r1: NamedGroup.secp384r1 };
export function groupName(id: number): NamedGroupName | undefined {
  return (Object.keys(GROUP_IDS) as NamedGroupName[]).find((g) => GROUP_IDS[g] === id);
}

export function suiteById(id: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.id === id);
}

/** Whether two suites share the hash a PSK is bound to (RFC 8446 §4.2.11). */
export function suiteHashMatches(a: number, b: number): boolean {
  return suiteById(a)?.hash === suiteById(b)?.hash;
}

/** The encryption level each handshake message travels at in QUIC (RFC 9001 §4.1.4). */
const MESSAGE_LEVEL: Record<number, EncryptionLevel> = {
  [HandshakeType.client_hello]: 'initial',
  [HandshakeType.server_hello]: 'initial',
  [HandshakeType.encrypted_extensions]: 'handshake',
  [HandshakeType.certificate_request]: 'handshake',
  [HandshakeType.certificate]: 'handshake',
  [HandshakeType.certificate_verify]: 'handshake',
  [HandshakeType.finished]: 'handshake',
  [HandshakeType.new_session_ticket]: 'application',
};

const LEVELS: readonly EncryptionLevel[] = ['initial', 'early', 'handshake', 'application'];

export abstract class TlsConnection {
  readonly provider: CryptoProvider;
  protected readonly config: TlsCommonConfig;
  protected readonly suites: readonly number[];
  protected readonly groups: readonly NamedGroupName[];
  protected readonly schemes: readonly number[];
  private readonly events: TlsEvent[] = [];
  private readonly buffers: Map<EncryptionLevel, CryptoReceiveBuffer>;
  private failure: QuicError | undefined;
  protected ks: KeySchedule | undefined;
  protected suite: CipherSuite | undefined;
  /** The ClientHello random, for key log lines. */
  protected clientRandom: Uint8Array = new Uint8Array(32);
  /** Whether this runs under QUIC (RFC 9001 rules) rather than the test-only TCP record layer. */
  protected readonly quic: boolean;
  handshakeComplete = false;
  alpn: string | undefined;
  peerCertificates: Uint8Array[] = [];

  constructor(config: TlsCommonConfig) {
    this.config = config;
    this.provider = config.provider ?? nodeProvider;
    this.suites = config.cipherSuites ?? DEFAULT_CIPHER_SUITES;
    this.groups = config.groups ?? DEFAULT_GROUPS;
    this.schemes = config.signatureSchemes ?? DEFAULT_SIGNATURE_SCHEMES;
    this.quic = config.transportParameters !== undefined;
    for (const s of this.suites) if (suiteById(s) === undefined) throw new RangeError(`unsupported cipher suite 0x${s.toString(16)}`);
    if (config.alpn.length === 0) throw new RangeError('ALPN is required: give at least one protocol');
    this.buffers = new Map(LEVELS.map((l) => [l, new CryptoReceiveBuffer(config.maxCryptoBuffer)]));
  }

  pollEvent(): TlsEvent | undefined {
    return this.events.shift();
  }

  /** Drains every pending event. */
  *events_(): Generator<TlsEvent> {
    for (let e = this.pollEvent(); e !== undefined; e = this.pollEvent()) yield e;
  }

  /** The error that ended the handshake, if one did. */
  get error(): QuicError | undefined {
    return this.failure;
  }

  /**
   * CRYPTO frame data (or a TLS record's handshake bytes) received at `level`. `now` is wall-clock
   * milliseconds (certificate validity, ticket ages). Throws a QuicError (TlsAlert for CRYPTO_ERROR) and keeps
   * throwing it afterwards.
   */
  handleCryptoData(level: EncryptionLevel, offset: number, data: Uint8Array, now: number): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      const buf = this.buffers.get(level)!;
      buf.insert(offset, data);
      for (let m = buf.nextMessage(); m !== undefined; m = buf.nextMessage()) this.handleMessage(level, m, now);
    } catch (e) {
      this.failure = e instanceof QuicError ? e : alert('internal_error', (e as Error).message ?? String(e));
      throw this.failure;
    }
  }

  /** Starts the handshake (the client sends its ClientHello). */
  abstract start(now: number): void;
  protected abstract handleMessage(level: EncryptionLevel, m: HandshakeMessage, now: number): void;

  protected fail(e: TlsAlert): never {
    throw e;
  }

  protected emit(e: TlsEvent): void {
    this.events.push(e);
  }

  protected sendMessage(level: EncryptionLevel, message: Uint8Array): void {
    this.ks?.addMessage(message);
    this.emit({ type: 'handshake-data', level, data: message });
  }

  /** RFC 8446 §5.1: handshake messages may not span a key change. */
  protected checkNoPartialMessage(level: EncryptionLevel): void {
    if (this.buffers.get(level)!.hasPartialData) this.fail(alert('unexpected_message', `handshake data left over at ${level} level at a key change`));
  }

  /**
   * Checks that message `m` is one the state machine expects now (`allowed`) and arrived at the encryption level
   * its type belongs to (RFC 9001 §4.1.4); unexpected_message otherwise.
   */
  protected expectMessage(level: EncryptionLevel, m: HandshakeMessage, allowed: readonly number[], state: string): void {
    if (!allowed.includes(m.type)) this.fail(alert('unexpected_message', `handshake message ${m.type} in state ${state}`));
    const want = MESSAGE_LEVEL[m.type];
    if (level !== want) this.fail(alert('unexpected_message', `handshake message ${m.type} at ${level} level`));
  }

  protected keyLogLine(label: string, secret: Uint8Array): void {
    this.config.keyLog?.(`${label} ${toHex(this.clientRandom)} ${toHex(secret)}`);
  }

  protected secret(direction: 'read' | 'write', level: EncryptionLevel, secret: Uint8Array, label: string, suite = this.suite!): void {
    this.emit({ type: 'secret', direction, level, suite, secret });
    this.keyLogLine(label, secret);
  }

  /** RFC 8446 §4.4.3: the content a CertificateVerify signs. */
  protected certificateVerifyContent(fromServer: boolean): Uint8Array {
    const context = new TextEncoder().encode(fromServer ? 'TLS 1.3, server CertificateVerify' : 'TLS 1.3, client CertificateVerify');
    const th = this.ks!.transcript();
    const out = new Uint8Array(64 + context.length + 1 + th.length);
    out.fill(0x20, 0, 64);
    out.set(context, 64);
    out.set(th, 65 + context.length);
    return out;
  }

  /** Sends Certificate (and CertificateVerify when we have a key) at the handshake level. */
  protected sendCertificate(context: Uint8Array, peerSchemes: readonly number[] | undefined, fromServer: boolean): void {
    const chain = this.config.certificateChain ?? [];
    const key = this.config.privateKey;
    const haveCert = chain.length > 0 && key !== undefined;
    this.sendMessage('handshake', encodeCertificate({ context, entries: haveCert ? chain.map((data) => ({ data, extensions: [] })) : [] }));
    if (!haveCert) return;
    const scheme = pickScheme(key, peerSchemes);
    if (scheme === undefined) this.fail(alert('handshake_failure', 'no signature scheme in common with the peer for our key'));
    const signature = this.provider.sign(schemeAlgorithm(scheme)!, key, this.certificateVerifyContent(fromServer));
    this.sendMessage('handshake', encodeCertificateVerify(scheme, signature));
  }

  /** Verifies the peer's CertificateVerify against the leaf key (decrypt_error when it does not verify). */
  protected verifyCertificateVerify(key: PublicKey, scheme: number, signature: Uint8Array, fromServer: boolean): void {
    if (!this.schemes.includes(scheme) || !schemeFitsKey(scheme, key)) this.fail(alert('illegal_parameter', `signature scheme 0x${scheme.toString(16)} not offered or not fit for the key`));
    if (!this.provider.verify(schemeAlgorithm(scheme)!, key, this.certificateVerifyContent(fromServer), signature)) {
      this.fail(alert('decrypt_error', 'CertificateVerify signature does not verify'));
    }
  }

  /** Checks a Finished message against the transcript so far (decrypt_error on mismatch). */
  protected checkFinished(body: Uint8Array, baseKey: Uint8Array): void {
    const expected = this.ks!.finishedVerifyData(baseKey, this.ks!.transcript());
    let diff = body.length ^ expected.length;
    for (let i = 0; i < expected.length && i < body.length; i++) diff |= body[i]! ^ expected[i]!;
    if (diff !== 0) this.fail(alert('decrypt_error', 'Finished verify_data does not match'));
  }

  /** RFC 8446 §4.2: an extension in a message where it does not belong, or one we did not ask for. */
  protected checkExtensions(exts: readonly Extension[], allowed: readonly number[], offered: ReadonlySet<number> | undefined, where: string): void {
    for (const e of exts) {
      if (offered !== undefined && !offered.has(e.type)) this.fail(alert('unsupported_extension', `unsolicited extension ${e.type} in ${where}`));
      if (!allowed.includes(e.type)) this.fail(alert('illegal_parameter', `extension ${e.type} not allowed in ${where}`));
    }
  }

  /** RFC 8446 §7.5: keying material exporter (after the handshake). */
  exportKeyingMaterial(label: string, context: Uint8Array, length: number): Uint8Array {
    if (this.exporterSecret === undefined) throw new Error('exporter not available before the handshake completes');
    return this.ks!.exportKeyingMaterial(this.exporterSecret, label, context, length);
  }
  protected exporterSecret: Uint8Array | undefined;
}

function pickScheme(key: PrivateKey, peerSchemes: readonly number[] | undefined): number | undefined {
  const ours = schemesForKey(key);
  if (peerSchemes === undefined) return ours[0];
  return ours.find((s) => peerSchemes.includes(s));
}
