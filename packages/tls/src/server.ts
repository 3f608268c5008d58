// The TLS 1.3 server handshake (RFC 8446 §4, with the QUIC rules of RFC 9001 §4 and §8): suite and group
// selection with HelloRetryRequest, ALPN, PSK resumption from our own tickets, 0-RTT with anti-replay,
// certificate authentication, client certificates (mutual TLS) and NewSessionTicket.

import { CryptoError, equalBytes, type KeyShare, type PublicKey } from '@gquic/crypto';
import { QuicError, TransportErrorCode } from '@gquic/wire';
import { alert } from './alerts.js';
import type { EncryptionLevel, TlsServerConfig } from './config.js';
import { GROUP_IDS, TlsConnection, groupName, suiteById, suiteHashMatches } from './connection.js';
import type { HandshakeMessage } from './crypto-stream.js';
import { KeySchedule } from './key-schedule.js';
import {
  ExtensionType,
  HRR_RANDOM,
  HandshakeType,
  PSK_DHE_KE,
  TLS13,
  decodeCertificate,
  decodeCertificateVerify,
  decodeClientHello,
  encodeCertificateRequest,
  encodeEncryptedExtensions,
  encodeNewSessionTicket,
  encodeServerHello,
  ext,
  findExtension,
  frameMessage,
  type Extension,
  type KeyShareEntry,
} from './messages.js';
import type { TicketState } from './session-ticket.js';
import { parseCertificates, systemRootCertificates, verifyCertificateChain } from './verify.js';
import type { Certificate } from './x509.js';

type ServerState = 'wait-ch' | 'wait-ch2' | 'wait-cert' | 'wait-cv' | 'wait-finished' | 'connected';

const H = HandshakeType;
/** RFC 8446 §2: what the client may send next. */
const SERVER_EXPECTS: Record<ServerState, readonly number[]> = {
  'wait-ch': [H.client_hello],
  'wait-ch2': [H.client_hello],
  'wait-cert': [H.certificate],
  'wait-cv': [H.certificate_verify],
  'wait-finished': [H.finished],
  connected: [],
};

/** The most PSK identities we try to open per ClientHello (each costs an AEAD open). */
export const MAX_PSK_IDENTITIES = 4;
/** RFC 9001 §4.6.1: max_early_data_size in QUIC tickets. */
const QUIC_MAX_EARLY_DATA = 0xffffffff;

export class TlsServer extends TlsConnection {
  declare protected readonly config: TlsServerConfig;
  private state: ServerState = 'wait-ch';
  private ch1: Uint8Array | undefined;
  private hrr: Uint8Array | undefined;
  private hrrGroup: number | undefined;
  private sessionId: Uint8Array = new Uint8Array(0);
  private resumed = false;
  private earlyAccepted = false;
  private clientHsSecret: Uint8Array | undefined;
  private clientAppSecret: Uint8Array | undefined;
  private requestedClientCert = false;
  private clientKey: PublicKey | undefined;
  /** The transport parameters sent in EncryptedExtensions (also sealed into tickets). */
  private localTransportParameters: Uint8Array | undefined;
  /** SNI host name the client asked for, if any. */
  serverName: string | undefined;

  constructor(config: TlsServerConfig) {
    super(config);
    if (config.certificateChain.length === 0) throw new RangeError('a TLS server needs a certificate chain');
    if (config.earlyData === true && (config.antiReplay === undefined || config.ticketKeys === undefined)) {
      throw new RangeError('0-RTT needs ticketKeys and antiReplay');
    }
  }

  start(): void {
    // The server waits for the ClientHello.
  }

  get earlyDataAccepted(): boolean {
    return this.earlyAccepted;
  }

  get sessionResumed(): boolean {
    return this.resumed;
  }

  protected handleMessage(level: EncryptionLevel, m: HandshakeMessage, now: number): void {
    // RFC 9001 §8.3: no EndOfEarlyData in QUIC; §6: no KeyUpdate. Both are unexpected_message.
    this.expectMessage(level, m, SERVER_EXPECTS[this.state], this.state);
    switch (m.type) {
      case HandshakeType.client_hello:
        return this.onClientHello(m, now);
      case HandshakeType.certificate:
        return this.onCertificate(m, now);
      case HandshakeType.certificate_verify:
        return this.onCertificateVerify(m);
      default:
        return this.onFinished(m, now);
    }
  }

  private onClientHello(m: HandshakeMessage, now: number): void {
    this.checkNoPartialMessage('initial');
    const ch = decodeClientHello(m.body);
    const second = this.state === 'wait-ch2';
    if (!second) this.clientRandom = ch.random;
    // RFC 9001 §8.4: QUIC has no middlebox compatibility mode.
    if (this.quic && ch.legacySessionId.length !== 0) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'non-empty legacy_session_id in a QUIC ClientHello');
    if (second && !equalBytes(ch.legacySessionId, this.sessionId)) this.fail(alert('illegal_parameter', 'ClientHello2 changed legacy_session_id'));
    this.sessionId = ch.legacySessionId;
    const versions = findExtension(ch.extensions, ExtensionType.supported_versions);
    if (versions === undefined || !ext.supportedVersions.decodeClient(versions).includes(TLS13)) this.fail(alert('protocol_version', 'the client does not offer TLS 1.3'));

    // Cipher suite: our preference among the client's.
    const suiteId = this.suites.find((s) => ch.cipherSuites.includes(s));
    if (suiteId === undefined) this.fail(alert('handshake_failure', 'no cipher suite in common'));
    if (second && suiteId !== this.suite!.id) this.fail(alert('illegal_parameter', 'ClientHello2 changed the cipher suites'));
    const suite = suiteById(suiteId)!;
    this.suite = suite;

    // RFC 8446 §9.2: supported_groups and key_share go together (we only do (EC)DHE key exchange).
    const groupsExt = findExtension(ch.extensions, ExtensionType.supported_groups);
    const sharesExt = findExtension(ch.extensions, ExtensionType.key_share);
    if (groupsExt === undefined || sharesExt === undefined) this.fail(alert('missing_extension', 'ClientHello without supported_groups and key_share'));
    const clientGroups = ext.supportedGroups.decode(groupsExt);
    const shares = ext.keyShare.decodeClient(sharesExt);
    for (const s of shares) if (!clientGroups.includes(s.group)) this.fail(alert('illegal_parameter', 'key share for a group not in supported_groups'));
    let share: KeyShareEntry | undefined;
    if (second) {
      // §4.1.2: the second ClientHello carries exactly the share we asked for and no early_data.
      if (shares.length !== 1 || shares[0]!.group !== this.hrrGroup) this.fail(alert('illegal_parameter', 'ClientHello2 without the requested key share'));
      if (findExtension(ch.extensions, ExtensionType.early_data) !== undefined) this.fail(alert('illegal_parameter', 'early_data after a HelloRetryRequest'));
      share = shares[0]!;
    } else {
      for (const g of this.groups) {
        share = shares.find((s) => s.group === GROUP_IDS[g]);
        if (share !== undefined) break;
      }
    }

    // ALPN (RFC 7301 §3.2, RFC 9001 §8.1): required.
    const alpnExt = findExtension(ch.extensions, ExtensionType.alpn);
    const offered = alpnExt === undefined ? [] : ext.alpn.decode(alpnExt);
    const alpn = this.config.alpn.find((p) => offered.includes(p));
    if (alpn === undefined) this.fail(alert('no_application_protocol', `no application protocol in common (client offered ${offered.join(', ') || 'none'})`));
    this.alpn = alpn;

    // RFC 9001 §8.2: quic_transport_parameters is mandatory in QUIC.
    const tp = findExtension(ch.extensions, ExtensionType.quic_transport_parameters);
    if (this.quic && tp === undefined) this.fail(alert('missing_extension', 'the client sent no quic_transport_parameters'));

    const sni = findExtension(ch.extensions, ExtensionType.server_name);
    if (sni !== undefined) this.serverName = ext.serverName.decode(sni);

    if (share === undefined) {
      // No usable share: HelloRetryRequest with the first group of ours the client supports (§4.1.4).
      if (second) this.fail(alert('illegal_parameter', 'no usable key share after HelloRetryRequest'));
      const g = this.groups.find((x) => clientGroups.includes(GROUP_IDS[x]));
      if (g === undefined) this.fail(alert('handshake_failure', 'no key exchange group in common'));
      return this.sendHelloRetryRequest(m.raw, GROUP_IDS[g]);
    }

    // PSK resumption (§4.2.11) from one of our tickets, only with psk_dhe_ke.
    const pskExt = findExtension(ch.extensions, ExtensionType.pre_shared_key);
    const modesExt = findExtension(ch.extensions, ExtensionType.psk_key_exchange_modes);
    const modes = modesExt === undefined ? [] : ext.pskModes.decode(modesExt);
    if (pskExt !== undefined && modesExt === undefined) this.fail(alert('missing_extension', 'pre_shared_key without psk_key_exchange_modes'));
    let ticket: TicketState | undefined;
    let ticketAge = 0;
    const ks0 = (psk: Uint8Array | null): KeySchedule => {
      const ks = new KeySchedule(this.provider, suite.hash, psk);
      if (this.hrr !== undefined) {
        ks.addMessage(this.ch1!);
        ks.replaceWithMessageHash();
        ks.addMessage(this.hrr);
      }
      return ks;
    };
    let pskIndex = -1;
    if (pskExt !== undefined && modes.includes(PSK_DHE_KE) && this.config.ticketKeys !== undefined) {
      const offeredPsks = ext.preSharedKey.decodeClient(pskExt);
      const n = Math.min(offeredPsks.identities.length, MAX_PSK_IDENTITIES);
      for (let i = 0; i < n && ticket === undefined; i++) {
        const id = offeredPsks.identities[i]!;
        const t = this.config.ticketKeys.open(id.identity, now);
        if (t === undefined || !suiteHashMatches(t.cipherSuite, suiteId)) continue;
        if (now < t.issuedAt || now - t.issuedAt > t.lifetime * 1000) continue;
        // The application may refuse a ticket outright (QUIC: one issued under another version, RFC 9369 §5).
        if (this.config.acceptTicket !== undefined && !this.config.acceptTicket(t.appData, tp)) continue;
        // §4.2.11.2: the binder proves the client holds the PSK; a wrong one is fatal.
        const ks = ks0(t.psk);
        const truncated = m.raw.subarray(0, m.raw.length - ext.preSharedKey.bindersLength(offeredPsks.binders));
        const expected = ks.finishedVerifyData(ks.binderKey(true), ks.transcriptWith(truncated));
        if (!equalBytes(expected, offeredPsks.binders[i]!)) this.fail(alert('decrypt_error', 'PSK binder does not verify'));
        ticket = t;
        pskIndex = i;
        ticketAge = (id.obfuscatedTicketAge - t.ageAdd) >>> 0;
      }
    }
    this.resumed = ticket !== undefined;

    // Signature scheme for our certificate (full handshakes).
    let peerSchemes: number[] | undefined;
    if (!this.resumed) {
      const sa = findExtension(ch.extensions, ExtensionType.signature_algorithms);
      if (sa === undefined) this.fail(alert('missing_extension', 'ClientHello without signature_algorithms'));
      peerSchemes = ext.signatureAlgorithms.decode(sa);
    }

    // 0-RTT (§4.2.10, RFC 9001 §4.6): only on the first ClientHello with the first identity, same suite and ALPN,
    // fresh and never seen before, and when the application agrees.
    const wantsEarly = findExtension(ch.extensions, ExtensionType.early_data) !== undefined;
    if (wantsEarly && !this.quic) this.fail(alert('illegal_parameter', 'early data is only supported over QUIC'));
    if (wantsEarly && ticket !== undefined && pskIndex === 0 && this.config.earlyData === true && ticket.maxEarlyData > 0) {
      this.earlyAccepted =
        ticket.cipherSuite === suiteId &&
        ticket.alpn === alpn &&
        this.config.antiReplay!.accept(ticket, ticketAge, now) &&
        (this.config.acceptEarlyData?.({ alpn, ticketAppData: ticket.appData }) ?? true);
    }

    if (tp !== undefined) this.emit({ type: 'peer-transport-parameters', data: tp });

    const ks = ks0(ticket?.psk ?? null);
    ks.addMessage(m.raw);
    this.ks = ks;
    if (this.earlyAccepted) this.secret('read', 'early', ks.clientEarlyTrafficSecret(), 'CLIENT_EARLY_TRAFFIC_SECRET');
    if (wantsEarly) this.emit({ type: 'early-data', accepted: this.earlyAccepted });

    // ServerHello with our key share.
    let keyShare: KeyShare;
    let shared: Uint8Array;
    try {
      keyShare = this.provider.generateKeyShare(groupName(share.group)!);
      shared = keyShare.deriveSecret(share.keyExchange);
    } catch (e) {
      if (e instanceof CryptoError) this.fail(alert('illegal_parameter', `bad client key share: ${e.message}`));
      throw e;
    }
    const shExts: Extension[] = [ext.supportedVersions.encodeServer(TLS13), ext.keyShare.encodeServer({ group: share.group, keyExchange: keyShare.publicKey })];
    if (ticket !== undefined) shExts.push(ext.preSharedKey.encodeServer(pskIndex));
    this.sendMessage('initial', encodeServerHello({ random: this.provider.randomBytes(32), legacySessionIdEcho: this.sessionId, cipherSuite: suiteId, extensions: shExts }));
    ks.enterHandshake(shared);
    const hs = ks.handshakeTrafficSecrets();
    this.clientHsSecret = hs.client;
    this.secret('write', 'handshake', hs.server, 'SERVER_HANDSHAKE_TRAFFIC_SECRET');
    this.secret('read', 'handshake', hs.client, 'CLIENT_HANDSHAKE_TRAFFIC_SECRET');

    // EncryptedExtensions.
    const ee: Extension[] = [ext.alpn.encode([alpn])];
    if (this.config.transportParameters !== undefined) {
      this.localTransportParameters = tp !== undefined ? (this.config.transportParametersFor?.(tp) ?? this.config.transportParameters) : this.config.transportParameters;
      ee.push({ type: ExtensionType.quic_transport_parameters, data: this.localTransportParameters });
    }
    if (this.earlyAccepted) ee.push(ext.earlyData.empty());
    this.sendMessage('handshake', encodeEncryptedExtensions(ee));

    if (!this.resumed) {
      const clientAuth = this.config.clientAuth ?? 'none';
      if (clientAuth !== 'none') {
        this.requestedClientCert = true;
        this.sendMessage('handshake', encodeCertificateRequest({ context: new Uint8Array(0), extensions: [ext.signatureAlgorithms.encode(this.schemes)] }));
      }
      this.sendCertificate(new Uint8Array(0), peerSchemes, true);
    }
    const verify = ks.finishedVerifyData(hs.server, ks.transcript());
    this.sendMessage('handshake', frameMessage(HandshakeType.finished, verify));
    ks.enterMaster();
    const app = ks.applicationSecrets();
    this.exporterSecret = app.exporter;
    this.clientAppSecret = app.client;
    this.secret('write', 'application', app.server, 'SERVER_TRAFFIC_SECRET_0');
    this.keyLogLine('EXPORTER_SECRET', app.exporter);
    this.state = this.requestedClientCert ? 'wait-cert' : 'wait-finished';
  }

  private sendHelloRetryRequest(ch1: Uint8Array, group: number): void {
    this.ch1 = ch1;
    this.hrrGroup = group;
    const hrr = encodeServerHello({
      random: HRR_RANDOM,
      legacySessionIdEcho: this.sessionId,
      cipherSuite: this.suite!.id,
      extensions: [ext.supportedVersions.encodeServer(TLS13), ext.keyShare.encodeHrr(group)],
    });
    this.hrr = hrr;
    this.emit({ type: 'handshake-data', level: 'initial', data: hrr });
    this.state = 'wait-ch2';
  }

  private onCertificate(m: HandshakeMessage, now: number): void {
    const cert = decodeCertificate(m.body);
    if (cert.context.length !== 0) this.fail(alert('illegal_parameter', 'client Certificate context does not match the request'));
    for (const e of cert.entries) if (e.extensions.length > 0) this.fail(alert('unsupported_extension', 'certificate entry extensions were not requested'));
    this.ks!.addMessage(m.raw);
    if (cert.entries.length === 0) {
      // §4.4.2.4: no certificate from the client.
      if (this.config.clientAuth === 'require') this.fail(alert('certificate_required', 'the client sent no certificate'));
      this.state = 'wait-finished';
      return;
    }
    const chain = cert.entries.map((e) => e.data);
    const leaf = verifyCertificateChain(chain, { provider: this.provider, roots: this.clientRoots(), now, purpose: 'client' });
    this.clientKey = leaf.publicKey;
    this.peerCertificates = chain;
    this.state = 'wait-cv';
  }

  private clientRoots(): readonly Certificate[] {
    const ca = this.config.clientCa;
    return ca === undefined ? systemRootCertificates() : typeof ca === 'string' ? parseCertificates(ca) : ca;
  }

  private onCertificateVerify(m: HandshakeMessage): void {
    const cv = decodeCertificateVerify(m.body);
    this.verifyCertificateVerify(this.clientKey!, cv.scheme, cv.signature, false);
    this.ks!.addMessage(m.raw);
    this.state = 'wait-finished';
  }

  private onFinished(m: HandshakeMessage, now: number): void {
    this.checkNoPartialMessage('handshake');
    const ks = this.ks!;
    this.checkFinished(m.body, this.clientHsSecret!);
    ks.addMessage(m.raw);
    // RFC 9001 §5.7: the client's 1-RTT packets are processed only once the handshake is complete.
    this.secret('read', 'application', this.clientAppSecret!, 'CLIENT_TRAFFIC_SECRET_0');
    const resumption = ks.resumptionMasterSecret();
    this.state = 'connected';
    this.handshakeComplete = true;
    this.emit({ type: 'handshake-complete', alpn: this.alpn!, cipherSuite: this.suite!.id, resumed: this.resumed, peerCertificates: this.peerCertificates });
    this.sendTickets(resumption, now);
  }

  private sendTickets(resumption: Uint8Array, now: number): void {
    const keys = this.config.ticketKeys;
    if (keys === undefined) return;
    const count = this.config.ticketCount ?? 1;
    const lifetime = Math.min(this.config.ticketLifetimeSeconds ?? 86_400, 604_800);
    const maxEarlyData = this.config.earlyData === true ? QUIC_MAX_EARLY_DATA : 0;
    for (let i = 0; i < count; i++) {
      const nonce = Uint8Array.of(i >>> 8, i & 0xff);
      const ageAdd = new DataView(this.provider.randomBytes(4).buffer).getUint32(0);
      const state: TicketState = {
        cipherSuite: this.suite!.id,
        psk: this.ks!.ticketPsk(resumption, nonce),
        issuedAt: now,
        ageAdd,
        lifetime,
        alpn: this.alpn!,
        maxEarlyData,
        id: this.provider.randomBytes(16),
        appData: this.config.ticketAppData ?? this.localTransportParameters ?? new Uint8Array(0),
      };
      const extensions = maxEarlyData > 0 ? [ext.earlyData.encodeTicket(maxEarlyData)] : [];
      // Tickets are post-handshake: not part of the transcript.
      this.emit({ type: 'handshake-data', level: 'application', data: encodeNewSessionTicket({ lifetime, ageAdd, nonce, ticket: keys.seal(state, now), extensions }) });
    }
  }
}

