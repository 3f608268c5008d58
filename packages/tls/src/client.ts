// The TLS 1.3 client handshake (RFC 8446 §4, with the QUIC rules of RFC 9001 §4 and §8): ClientHello with key
// shares, PSK resumption and 0-RTT, HelloRetryRequest, server authentication, client certificates,
// NewSessionTicket. Sans-IO: handshake bytes in, events out.

import { CryptoError, type KeyShare, type PublicKey } from '@gquic/crypto';
import { QuicError, TransportErrorCode } from '@gquic/wire';
import { alert } from './alerts.js';
import type { EncryptionLevel, TlsClientConfig } from './config.js';
import { GROUP_IDS, TlsConnection, groupName, suiteById, suiteHashMatches } from './connection.js';
import type { HandshakeMessage } from './crypto-stream.js';
import { KeySchedule } from './key-schedule.js';
import {
  ExtensionType,
  HandshakeType,
  PSK_DHE_KE,
  TLS13,
  decodeCertificate,
  decodeCertificateRequest,
  decodeCertificateVerify,
  decodeEncryptedExtensions,
  decodeNewSessionTicket,
  decodeServerHello,
  encodeClientHello,
  ext,
  findExtension,
  frameMessage,
  isHelloRetryRequest,
  type Extension,
  type ServerHello,
} from './messages.js';
import type { ClientSession } from './session-ticket.js';
import { parseCertificates, systemRootCertificates, verifyCertificateChain } from './verify.js';
import { parseCertificate, type Certificate } from './x509.js';
import { isIP } from 'node:net';

type ClientState = 'start' | 'wait-sh' | 'wait-ee' | 'wait-cert-cr' | 'wait-cert' | 'wait-cv' | 'wait-finished' | 'connected';

const H = HandshakeType;
/** RFC 8446 §2 (figure 1): what the server may send next. */
const CLIENT_EXPECTS: Record<ClientState, readonly number[]> = {
  start: [],
  'wait-sh': [H.server_hello],
  'wait-ee': [H.encrypted_extensions],
  'wait-cert-cr': [H.certificate_request, H.certificate],
  'wait-cert': [H.certificate],
  'wait-cv': [H.certificate_verify],
  'wait-finished': [H.finished],
  connected: [H.new_session_ticket],
};

/** RFC 8446 §4.6.1: tickets live at most seven days. */
export const MAX_TICKET_LIFETIME = 604_800;

export class TlsClient extends TlsConnection {
  declare protected readonly config: TlsClientConfig;
  private state: ClientState = 'start';
  private shares: KeyShare[] = [];
  /** ClientHello1 and, after a HelloRetryRequest, the HRR: the transcript before the current ClientHello. */
  private ch1: Uint8Array | undefined;
  private hrr: Uint8Array | undefined;
  private hrrSuite: number | undefined;
  private ch: Uint8Array | undefined;
  private offeredPsk: ClientSession | undefined;
  private offeredEarlyData = false;
  private offeredExtensions = new Set<number>();
  private resumed = false;
  private earlyAccepted = false;
  private clientHsSecret: Uint8Array | undefined;
  private serverHsSecret: Uint8Array | undefined;
  private certRequest: { context: Uint8Array; schemes: number[] } | undefined;
  private serverKey: PublicKey | undefined;
  private resumptionSecret: Uint8Array | undefined;
  private peerTransportParameters: Uint8Array = new Uint8Array(0);
  private roots: readonly Certificate[] | undefined;

  constructor(config: TlsClientConfig) {
    super(config);
  }

  /** Whether 0-RTT is being attempted (the 'early' write secret was emitted). */
  get earlyDataOffered(): boolean {
    return this.offeredEarlyData;
  }

  start(now: number): void {
    if (this.state !== 'start') throw new Error('handshake already started');
    const groups = this.config.keyShareGroups ?? this.groups.slice(0, 1);
    for (const g of groups) if (!this.groups.includes(g)) throw new RangeError(`key share group ${g} is not in groups`);
    this.shares = groups.map((g) => this.provider.generateKeyShare(g));
    this.clientRandom = this.provider.randomBytes(32);
    const s = this.config.session;
    if (s !== undefined && this.sessionUsable(s, now)) this.offeredPsk = s;
    this.offeredEarlyData =
      this.quic && this.config.earlyData === true && this.offeredPsk !== undefined && this.offeredPsk.maxEarlyData > 0 && this.config.alpn.includes(this.offeredPsk.alpn);
    this.sendClientHello(now, undefined);
    this.state = 'wait-sh';
  }

  private sessionUsable(s: ClientSession, now: number): boolean {
    const suite = suiteById(s.cipherSuite);
    return (
      s.serverName === this.config.serverName &&
      suite !== undefined &&
      this.suites.includes(s.cipherSuite) &&
      now >= s.receivedAt &&
      now - s.receivedAt < Math.min(s.lifetime, MAX_TICKET_LIFETIME) * 1000
    );
  }

  private sendClientHello(now: number, cookie: Uint8Array | undefined): void {
    const exts: Extension[] = [
      ext.supportedVersions.encodeClient([TLS13]),
      ext.supportedGroups.encode(this.groups.map((g) => GROUP_IDS[g])),
      ext.signatureAlgorithms.encode(this.schemes),
      ext.keyShare.encodeClient(this.shares.map((k) => ({ group: GROUP_IDS[k.group], keyExchange: k.publicKey }))),
      ext.alpn.encode(this.config.alpn),
      ext.pskModes.encode([PSK_DHE_KE]),
    ];
    // RFC 6066 §3: literal IP addresses are not sent as server names.
    if (isIP(this.config.serverName) === 0) exts.push(ext.serverName.encode(this.config.serverName));
    if (this.config.transportParameters !== undefined) exts.push({ type: ExtensionType.quic_transport_parameters, data: this.config.transportParameters });
    if (cookie !== undefined) exts.push(ext.cookie.encode(cookie));
    // §4.2.10: no early_data after a HelloRetryRequest.
    const early = this.offeredEarlyData && this.hrr === undefined;
    if (early) exts.push(ext.earlyData.empty());
    // §4.1.4: after an HRR the PSK is offered again only if its hash fits the selected suite.
    let psk = this.offeredPsk;
    if (psk !== undefined && this.hrrSuite !== undefined && !suiteHashMatches(psk.cipherSuite, this.hrrSuite)) psk = undefined;
    const hashLen = psk !== undefined ? suiteById(psk.cipherSuite)!.hashLength : 0;
    if (psk !== undefined) {
      const age = (Math.max(0, now - psk.receivedAt) + psk.ageAdd) >>> 0;
      exts.push(ext.preSharedKey.encodeClient({ identities: [{ identity: psk.ticket, obfuscatedTicketAge: age }], binders: [new Uint8Array(hashLen)] }));
    }
    this.offeredExtensions = new Set(exts.map((e) => e.type));
    const ch = encodeClientHello({ random: this.clientRandom, legacySessionId: new Uint8Array(0), cipherSuites: [...this.suites], extensions: exts });

    let earlyKs: KeySchedule | undefined;
    if (psk !== undefined) {
      // §4.2.11.2: the binder is a Finished value over the transcript up to the truncated ClientHello.
      const suite = suiteById(psk.cipherSuite)!;
      earlyKs = this.replaySchedule(suite.hash, psk.psk);
      const truncated = ch.subarray(0, ch.length - ext.preSharedKey.bindersLength([new Uint8Array(hashLen)]));
      const binder = earlyKs.finishedVerifyData(earlyKs.binderKey(true), earlyKs.transcriptWith(truncated));
      ch.set(binder, ch.length - hashLen);
      earlyKs.addMessage(ch);
    } else {
      this.offeredPsk = undefined;
    }
    if (this.ch1 === undefined) this.ch1 = ch;
    this.ch = ch;
    this.emit({ type: 'handshake-data', level: 'initial', data: ch });
    if (early && earlyKs !== undefined) {
      const suite = suiteById(psk!.cipherSuite)!;
      this.secret('write', 'early', earlyKs.clientEarlyTrafficSecret(), 'CLIENT_EARLY_TRAFFIC_SECRET', suite);
    }
  }

  /** A key schedule over the transcript before the current ClientHello (ClientHello1 → message_hash, HRR). */
  private replaySchedule(hash: 'sha256' | 'sha384', psk: Uint8Array | null): KeySchedule {
    const ks = new KeySchedule(this.provider, hash, psk);
    if (this.hrr !== undefined) {
      ks.addMessage(this.ch1!);
      ks.replaceWithMessageHash();
      ks.addMessage(this.hrr);
    }
    return ks;
  }

  protected handleMessage(level: EncryptionLevel, m: HandshakeMessage, now: number): void {
    // In 'connected', only tickets: RFC 9001 §6 forbids KeyUpdate (0x010a) and post-handshake authentication
    // was not offered (RFC 8446 §4.6.2).
    this.expectMessage(level, m, CLIENT_EXPECTS[this.state], this.state);
    switch (m.type) {
      case HandshakeType.server_hello:
        return this.onServerHello(m, now);
      case HandshakeType.encrypted_extensions:
        return this.onEncryptedExtensions(m);
      case HandshakeType.certificate_request:
        return this.onCertificateRequest(m);
      case HandshakeType.certificate:
        return this.onCertificate(m, now);
      case HandshakeType.certificate_verify:
        return this.onCertificateVerify(m);
      case HandshakeType.finished:
        return this.onFinished(m);
      default:
        return this.onNewSessionTicket(m, now);
    }
  }

  private onServerHello(m: HandshakeMessage, now: number): void {
    this.checkNoPartialMessage('initial');
    const sh = decodeServerHello(m.body);
    const version = findExtension(sh.extensions, ExtensionType.supported_versions);
    if (version === undefined || ext.supportedVersions.decodeServer(version) !== TLS13) this.fail(alert('protocol_version', 'the server did not select TLS 1.3'));
    // RFC 9001 §8.4 / RFC 8446 §4.1.3: the echo must match what we sent (empty).
    if (sh.legacySessionIdEcho.length !== 0) this.fail(alert('illegal_parameter', 'legacy_session_id_echo does not match'));
    if (!this.suites.includes(sh.cipherSuite)) this.fail(alert('illegal_parameter', `cipher suite 0x${sh.cipherSuite.toString(16)} was not offered`));
    if (isHelloRetryRequest(sh)) return this.onHelloRetryRequest(sh, m.raw, now);
    if (this.hrrSuite !== undefined && sh.cipherSuite !== this.hrrSuite) this.fail(alert('illegal_parameter', 'ServerHello cipher suite differs from the HelloRetryRequest'));
    this.checkExtensions(sh.extensions, [ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.pre_shared_key], this.offeredExtensions, 'ServerHello');
    const suite = suiteById(sh.cipherSuite)!;
    this.suite = suite;

    const pskExt = findExtension(sh.extensions, ExtensionType.pre_shared_key);
    let psk: Uint8Array | null = null;
    if (pskExt !== undefined) {
      if (ext.preSharedKey.decodeServer(pskExt) !== 0 || this.offeredPsk === undefined) this.fail(alert('illegal_parameter', 'the server selected a PSK that was not offered'));
      if (!suiteHashMatches(this.offeredPsk.cipherSuite, sh.cipherSuite)) this.fail(alert('illegal_parameter', "the selected cipher suite's hash does not fit the PSK"));
      psk = this.offeredPsk.psk;
      this.resumed = true;
    }
    const ksExt = findExtension(sh.extensions, ExtensionType.key_share);
    if (ksExt === undefined) this.fail(alert('missing_extension', 'ServerHello without key_share (psk_ke was not offered)'));
    const entry = ext.keyShare.decodeServer(ksExt);
    const share = this.shares.find((k) => GROUP_IDS[k.group] === entry.group);
    if (share === undefined) this.fail(alert('illegal_parameter', `key share for group 0x${entry.group.toString(16)} that we did not send`));
    let shared: Uint8Array;
    try {
      shared = share.deriveSecret(entry.keyExchange);
    } catch (e) {
      if (e instanceof CryptoError) this.fail(alert('illegal_parameter', `bad server key share: ${e.message}`));
      throw e;
    }
    const ks = this.replaySchedule(suite.hash, psk);
    ks.addMessage(this.ch!);
    ks.addMessage(m.raw);
    this.ks = ks;
    ks.enterHandshake(shared);
    const hs = ks.handshakeTrafficSecrets();
    this.clientHsSecret = hs.client;
    this.serverHsSecret = hs.server;
    this.secret('read', 'handshake', hs.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    this.secret('write', 'handshake', hs.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');
    this.state = 'wait-ee';
  }

  private onHelloRetryRequest(sh: ServerHello, raw: Uint8Array, now: number): void {
    // §4.1.4: at most one HelloRetryRequest, and it must change something.
    if (this.hrr !== undefined) this.fail(alert('unexpected_message', 'a second HelloRetryRequest'));
    this.checkExtensions(sh.extensions, [ExtensionType.supported_versions, ExtensionType.key_share, ExtensionType.cookie], undefined, 'HelloRetryRequest');
    const ksExt = findExtension(sh.extensions, ExtensionType.key_share);
    const cookieExt = findExtension(sh.extensions, ExtensionType.cookie);
    let cookie: Uint8Array | undefined;
    if (cookieExt !== undefined) cookie = ext.cookie.decode(cookieExt);
    if (ksExt !== undefined) {
      const gid = ext.keyShare.decodeHrr(ksExt);
      const g = groupName(gid);
      if (g === undefined || !this.groups.includes(g)) this.fail(alert('illegal_parameter', `HelloRetryRequest asks for group 0x${gid.toString(16)} that we do not support`));
      if (this.shares.some((k) => k.group === g)) this.fail(alert('illegal_parameter', 'HelloRetryRequest asks for a group we already sent a share for'));
      this.shares = [this.provider.generateKeyShare(g)];
    } else if (cookie === undefined) {
      this.fail(alert('illegal_parameter', 'HelloRetryRequest that would not change the ClientHello'));
    }
    this.hrr = raw;
    this.hrrSuite = sh.cipherSuite;
    if (this.offeredEarlyData) {
      // RFC 9001 §4.6.2: a HelloRetryRequest rejects 0-RTT.
      this.emit({ type: 'early-data', accepted: false });
    }
    this.sendClientHello(now, cookie);
  }

  private onEncryptedExtensions(m: HandshakeMessage): void {
    const exts = decodeEncryptedExtensions(m.body);
    this.checkExtensions(
      exts,
      [ExtensionType.server_name, ExtensionType.supported_groups, ExtensionType.alpn, ExtensionType.quic_transport_parameters, ExtensionType.early_data],
      new Set([...this.offeredExtensions, ExtensionType.supported_groups]),
      'EncryptedExtensions',
    );
    const alpnExt = findExtension(exts, ExtensionType.alpn);
    // RFC 9001 §8.1: a QUIC client without an agreed application protocol aborts with no_application_protocol.
    if (alpnExt === undefined) this.fail(alert('no_application_protocol', 'the server selected no application protocol'));
    const selected = ext.alpn.decode(alpnExt);
    if (selected.length !== 1 || !this.config.alpn.includes(selected[0]!)) this.fail(alert('illegal_parameter', 'the server selected an application protocol we did not offer'));
    this.alpn = selected[0]!;
    if (this.quic) {
      const tp = findExtension(exts, ExtensionType.quic_transport_parameters);
      if (tp === undefined) this.fail(alert('missing_extension', 'the server sent no quic_transport_parameters'));
      this.peerTransportParameters = tp;
      this.emit({ type: 'peer-transport-parameters', data: tp });
    }
    const early = findExtension(exts, ExtensionType.early_data);
    if (early !== undefined) {
      if (early.length !== 0) this.fail(alert('decode_error', 'early_data in EncryptedExtensions must be empty'));
      if (!this.resumed || this.hrr !== undefined) this.fail(alert('illegal_parameter', 'early data accepted without resuming the offered PSK'));
      // RFC 8446 §4.2.10: the accepted early data's ALPN and suite are the ticket's.
      if (this.alpn !== this.offeredPsk!.alpn || this.suite!.id !== this.offeredPsk!.cipherSuite) this.fail(alert('illegal_parameter', "early data accepted with another ALPN or cipher suite than the ticket's"));
      this.earlyAccepted = true;
    }
    if (this.offeredEarlyData && this.hrr === undefined) this.emit({ type: 'early-data', accepted: this.earlyAccepted });
    this.ks!.addMessage(m.raw);
    this.state = this.resumed ? 'wait-finished' : 'wait-cert-cr';
  }

  private onCertificateRequest(m: HandshakeMessage): void {
    const cr = decodeCertificateRequest(m.body);
    // §4.3.2: empty context during the handshake; signature_algorithms is required.
    if (cr.context.length !== 0) this.fail(alert('illegal_parameter', 'CertificateRequest context must be empty in the handshake'));
    const sa = findExtension(cr.extensions, ExtensionType.signature_algorithms);
    if (sa === undefined) this.fail(alert('missing_extension', 'CertificateRequest without signature_algorithms'));
    this.certRequest = { context: cr.context, schemes: ext.signatureAlgorithms.decode(sa) };
    this.ks!.addMessage(m.raw);
    this.state = 'wait-cert';
  }

  private onCertificate(m: HandshakeMessage, now: number): void {
    const cert = decodeCertificate(m.body);
    if (cert.context.length !== 0) this.fail(alert('illegal_parameter', 'server Certificate with a request context'));
    // §4.4.2.4: a server must authenticate with a certificate.
    if (cert.entries.length === 0) this.fail(alert('decode_error', 'the server sent an empty Certificate'));
    for (const e of cert.entries) if (e.extensions.length > 0) this.fail(alert('unsupported_extension', 'certificate entry extensions were not requested'));
    const chain = cert.entries.map((e) => e.data);
    if (this.config.insecure === true) {
      try {
        this.serverKey = parseCertificate(chain[0]!).publicKey;
      } catch (e) {
        this.fail(alert('bad_certificate', `unparseable server certificate: ${(e as Error).message}`));
      }
    } else {
      const leaf = verifyCertificateChain(chain, { provider: this.provider, roots: this.trustAnchors(), now, hostname: this.config.serverName, purpose: 'server' });
      this.serverKey = leaf.publicKey;
    }
    this.peerCertificates = chain;
    this.ks!.addMessage(m.raw);
    this.state = 'wait-cv';
  }

  private trustAnchors(): readonly Certificate[] {
    if (this.roots === undefined) {
      const ca = this.config.ca;
      this.roots = ca === undefined ? systemRootCertificates() : typeof ca === 'string' ? parseCertificates(ca) : ca;
    }
    return this.roots;
  }

  private onCertificateVerify(m: HandshakeMessage): void {
    const cv = decodeCertificateVerify(m.body);
    this.verifyCertificateVerify(this.serverKey!, cv.scheme, cv.signature, true);
    this.ks!.addMessage(m.raw);
    this.state = 'wait-finished';
  }

  private onFinished(m: HandshakeMessage): void {
    this.checkNoPartialMessage('handshake');
    const ks = this.ks!;
    this.checkFinished(m.body, this.serverHsSecret!);
    ks.addMessage(m.raw);
    ks.enterMaster();
    const app = ks.applicationSecrets();
    this.exporterSecret = app.exporter;
    this.secret('read', 'application', app.server, 'SERVER_TRAFFIC_SECRET_0');
    // RFC 9001 §8.3: no EndOfEarlyData in QUIC.
    if (this.certRequest !== undefined) this.sendCertificate(this.certRequest.context, this.certRequest.schemes, false);
    const verify = ks.finishedVerifyData(this.clientHsSecret!, ks.transcript());
    this.sendMessage('handshake', frameMessage(HandshakeType.finished, verify));
    this.secret('write', 'application', app.client, 'CLIENT_TRAFFIC_SECRET_0');
    this.keyLogLine('EXPORTER_SECRET', app.exporter);
    this.resumptionSecret = ks.resumptionMasterSecret();
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ type: 'handshake-complete', alpn: this.alpn!, cipherSuite: this.suite!.id, resumed: this.resumed, peerCertificates: this.peerCertificates });
  }

  private onNewSessionTicket(m: HandshakeMessage, now: number): void {
    const t = decodeNewSessionTicket(m.body);
    if (t.lifetime > MAX_TICKET_LIFETIME) this.fail(alert('illegal_parameter', 'ticket lifetime above seven days'));
    let maxEarlyData = 0;
    const early = findExtension(t.extensions, ExtensionType.early_data);
    if (early !== undefined) {
      maxEarlyData = ext.earlyData.decodeTicket(early);
      // RFC 9001 §4.6.1: in QUIC max_early_data_size is 0xffffffff or the ticket does not allow 0-RTT.
      if (this.quic && maxEarlyData !== 0xffffffff) {
        throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'max_early_data_size other than 0xffffffff in a QUIC ticket');
      }
    }
    if (t.lifetime === 0) return; // §4.6.1: a zero lifetime means do not use
    this.emit({
      type: 'session-ticket',
      session: {
        serverName: this.config.serverName,
        alpn: this.alpn!,
        cipherSuite: this.suite!.id,
        ticket: t.ticket,
        psk: this.ks!.ticketPsk(this.resumptionSecret!, t.nonce),
        ageAdd: t.ageAdd,
        lifetime: t.lifetime,
        receivedAt: now,
        maxEarlyData,
        transportParameters: this.peerTransportParameters,
      },
    });
  }

  /** Whether the server accepted our 0-RTT data (known after EncryptedExtensions). */
  get earlyDataAccepted(): boolean {
    return this.earlyAccepted;
  }

  get sessionResumed(): boolean {
    return this.resumed;
  }
}
