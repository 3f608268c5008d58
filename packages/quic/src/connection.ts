// A QUIC connection, sans-IO (RFC 9000, RFC 9001, RFC 9002): datagrams and `now` in; datagrams, the next
// deadline and events out. Times are microseconds since the Unix epoch (the TLS layer reads wall-clock
// milliseconds from them for certificate checks); in simulation they are virtual.

import { PacketKeys, equalBytes, nodeProvider, retryIntegrityTag, type CryptoProvider } from '@gquic/crypto';
import {
  LossDetection,
  SPACE_APPLICATION,
  SPACE_HANDSHAKE,
  SPACE_INITIAL,
  Pacer,
  SentPacket,
  type GamingController,
  type PacketSpace as SpaceId,
} from '@gquic/recovery';
import { PriorityClass, StreamScheduler } from '@gquic/scheduler';
import { TlsClient, TlsServer, type ClientSession, type EncryptionLevel, type TlsConnection } from '@gquic/tls';
import {
  BufferReader,
  BufferWriter,
  PacketHeader,
  PacketType,
  QUIC_V1,
  QuicError,
  areCompatibleVersions,
  TransportErrorCode,
  ackFrameSize,
  frameSize,
  checkFrameAllowed,
  decodePacketNumber,
  decodeTransportParameters,
  encodeTransportParameters,
  isAckEliciting,
  isProbingFrame,
  packetNumberLength,
  parsePacketHeader,
  patchVarint2,
  readFrame,
  retryPseudoPacket,
  streamFrameOverhead,
  truncatePacketNumber,
  varintSize,
  writeAck,
  writeFrame,
  writeLongHeader,
  writeShortHeader,
  writeStreamFrame,
  type Frame,
  type TransportParameters,
} from '@gquic/wire';
import { LocalCids, PeerCids, type PeerCid } from './cid-state.js';
import { choosePreferredAddress, encodePreferredAddress, type PathAddress } from './preferred-address.js';
import { DEFAULT_TRANSPORT, localTransportParameters, type ClientConfig, type ServerConfig, type TransportConfig } from './config.js';
import type { ConnectionEvent } from './events.js';
import { KeyUpdate } from './key-update.js';
import { MtuDiscovery } from './mtu-discovery.js';
import { STATELESS_RESET_TOKEN_LENGTH, statelessResetToken } from './stateless-reset.js';
import { PacketSpace } from './packet-space.js';
import { QLOG_PACKET_TYPES, QlogTrace, hex, qlogFrame } from './qlog.js';
import {
  SF_ACK,
  SF_CRYPTO,
  SF_DATA_BLOCKED,
  SF_HANDSHAKE_DONE,
  SF_MAX_DATA,
  SF_MAX_STREAMS,
  SF_MAX_STREAM_DATA,
  SF_NEW_CID,
  SF_NEW_TOKEN,
  SF_RESET_STREAM,
  SF_RETIRE_CID,
  SF_STOP_SENDING,
  SF_STREAM,
  SF_STREAMS_BLOCKED,
  SF_STREAM_DATA_BLOCKED,
  SentFrame,
  type SentFrames,
} from './sent-frames.js';
import { StreamMap, isBidi } from './streams/stream-map.js';
import type { SendStream } from './streams/send-stream.js';

export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

const LEVEL_SPACE: Record<EncryptionLevel, SpaceId | -1> = { initial: SPACE_INITIAL, early: -1, handshake: SPACE_HANDSHAKE, application: SPACE_APPLICATION };
const SPACE_PACKET_TYPE = [PacketType.Initial, PacketType.Handshake, PacketType.OneRtt] as const;
const AEAD_TAG = 16;
const PING: Frame = { type: 'ping' };
/** The least room worth building a packet in: the longest header (long, 20-byte CIDs, token excepted), a frame, the tag. */
const MIN_PACKET_ROOM = 64;
/** writeStreamChunk's results when it wrote nothing. */
const NO_ROOM = -1;
const BLOCKED = -2;
/** RFC 9000 §14.1 */
export const MIN_INITIAL_DATAGRAM = 1200;
/** RFC 9000 §8.1: bytes a server may send per byte received before the client's address is validated. */
export const AMPLIFICATION_FACTOR = 3;

export interface ConnectionStats {
  rttUs: number;
  minRttUs: number;
  cwnd: number;
  bytesInFlight: number;
  bytesSent: number;
  bytesReceived: number;
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  /** Client: 0-RTT packets sent; server: 0-RTT packets accepted (RFC 9001 §4.6). */
  zeroRttPacketsSent: number;
  zeroRttPacketsReceived: number;
  congestion: { phase: string; [k: string]: number | string };
}

export interface ConnectionIds {
  /** Our first source connection ID. */
  scid: Uint8Array;
  /** Client: the random initial DCID. Server: the client's chosen DCID (original_destination_connection_id). */
  dcid: Uint8Array;
  /** Server: the client's SCID from its Initial. */
  peerScid?: Uint8Array;
  /** Server after a Retry: the Retry's SCID, which the client now uses as DCID (Initial keys come from it). */
  retryScid?: Uint8Array;
  /** Server: the client's address is already validated (a Retry or NEW_TOKEN token). */
  addressValidated?: boolean;
  /** Server: a NEW_TOKEN token to send once the handshake is confirmed. */
  newToken?: Uint8Array;
}

export class Connection {
  readonly isServer: boolean;
  state: ConnectionState = 'handshake';
  transport: TransportConfig;
  readonly provider: CryptoProvider;
  tls: TlsConnection;
  private spaces = [new PacketSpace(true), new PacketSpace(true), new PacketSpace(false)];
  private readonly config: ClientConfig | ServerConfig;
  /** Client: the versions a Version Negotiation packet offered, when we acted on one (RFC 9368 §4). */
  private negotiatedFrom: readonly number[] | undefined;
  /**
   * The version of the first flight (RFC 9368 "original version"). `transport.version` is the one in use, which
   * compatible version negotiation (§2.3) may change during the handshake; 0-RTT stays in the original version.
   */
  private originalVersion: number;
  /** Server after compatible version negotiation: the original version's Initial read keys, kept until a
   * Handshake packet arrives (RFC 9369 §4). */
  private originalInitialRead: PacketKeys | undefined;
  /** Server: the version chosen while TLS wrote EncryptedExtensions, applied with the client's parameters. */
  private negotiatedVersion: number | undefined;
  readonly recovery: LossDetection<SentFrames>;
  readonly streams: StreamMap;
  readonly localCids: LocalCids;
  readonly peerCids: PeerCids;
  private readonly events: ConnectionEvent[] = [];
  private readonly originalDcid: Uint8Array;
  /** Client: the server's SCID from its first packet, checked against initial_source_connection_id. */
  private peerInitialScid: Uint8Array | undefined;
  peerParams: TransportParameters | undefined;
  handshakeComplete = false;
  handshakeConfirmed = false;
  /** Server: the client's address is validated (a Handshake packet arrived, RFC 9000 §8.1). */
  private addressValidated: boolean;
  private bytesReceivedUnvalidated = 0;
  private bytesSentUnvalidated = 0;
  // Connection-level flow control (RFC 9000 §4.1).
  private sendMaxData = 0;
  private sendDataUsed = 0;
  private dataBlockedSentAt = -1;
  private recvMaxData: number;
  private recvWindow: number;
  private recvHighest = 0;
  private recvConsumed = 0;
  private maxDataPending = false;
  private lastRecvWindowUpdate = 0;
  private handshakeDonePending = false;
  // Timers.
  private idleTimeoutUs = 0;
  private idleDeadline = Number.POSITIVE_INFINITY;
  private closeDeadline = Number.POSITIVE_INFINITY;
  private ackElicitingSentSinceRecv = false;
  // Closing.
  private closeFrame: Frame | undefined;
  private closeSendPending = false;
  private closeEvent: ConnectionEvent | undefined;
  // Stats.
  private bytesSent = 0;
  private bytesReceived = 0;
  private packetsSent = 0;
  private packetsReceived = 0;
  private zeroRttPacketsSent = 0;
  private zeroRttPacketsReceived = 0;
  private readonly header = new PacketHeader();
  private readonly reader = new BufferReader();
  private readonly writer = new BufferWriter();
  /**
   * Which stream sends next (@gquic/scheduler): container classes, RFC 9218 urgency/incremental within them, the
   * gaming boost. Streams nobody classified share round-robin. Streams with lost data go first regardless.
   */
  readonly scheduler: StreamScheduler;
  /** Streams with data declared lost, served before any new data (retransmissions ahead of new stream data). */
  private readonly retransmits = new Set<number>();
  /** qlog trace, when configured; `qlogFrames` collects a received packet's frames. */
  private readonly qlog: QlogTrace | undefined;
  private qlogFrames: Array<Record<string, unknown>> | undefined;
  private lastMetrics = '';
  private lastPhase: string | undefined;
  /** DPLPMTUD state: `mtu.current` is the datagram size in use. */
  readonly mtu: MtuDiscovery;
  /** 1-RTT key phases, once both 1-RTT secrets are known (RFC 9001 §6). */
  private keyUpdate: KeyUpdate | undefined;
  private keyUpdateRequested = false;
  /** 0-RTT keys (RFC 9001 §4.6): the client writes with them, the server reads; both in the application space. */
  private zeroRttWrite: PacketKeys | undefined;
  private zeroRttRead: PacketKeys | undefined;
  /** Client: the server's transport parameters remembered with the session (RFC 9000 §7.4.1). */
  private rememberedParams: TransportParameters | undefined;
  /** Client: whether the server accepted our 0-RTT (undefined until known). */
  earlyDataAccepted: boolean | undefined;
  private readonly pendingStreamControl = new Set<number>();

  /** A client connection; the endpoint normally makes these (it also routes on the CIDs). */
  static client(config: ClientConfig, now: number): Connection {
    const p = config.tls.provider ?? nodeProvider;
    const t = { ...DEFAULT_TRANSPORT, ...config.transport };
    // RFC 9000 §7.2: the first DCID is random and at least 8 bytes.
    return new Connection(false, t, config, { scid: p.randomBytes(t.cidLength), dcid: p.randomBytes(Math.max(8, t.cidLength)) }, now);
  }

  constructor(isServer: boolean, transport: TransportConfig, config: ClientConfig | ServerConfig, ids: ConnectionIds, now: number) {
    this.isServer = isServer;
    this.transport = transport;
    this.originalVersion = transport.version;
    this.lastNow = now;
    this.originalDcid = ids.dcid;
    this.addressValidated = !isServer || ids.addressValidated === true;
    this.serverRetryScid = ids.retryScid;
    this.newTokenPending = ids.newToken;
    this.mtu = new MtuDiscovery(transport.pmtuDiscovery ? Math.max(transport.pmtuMax, transport.maxDatagramSize) : transport.maxDatagramSize);
    this.mtu.current = transport.maxDatagramSize;
    const cc = transport.congestionController(transport.maxDatagramSize);
    this.recovery = new LossDetection<SentFrames>(cc);
    this.pacer = new Pacer(transport.maxDatagramSize);
    this.scheduler = new StreamScheduler(transport.scheduler);
    this.recovery.peerCompletedAddressValidation = isServer; // RFC 9002 §6.2.2.1: servers never need the anti-deadlock probe
    this.streams = new StreamMap(isServer, {
      bidiLocal: transport.streamWindow,
      bidiRemote: transport.streamWindow,
      uni: transport.streamWindow,
      maxWindow: transport.maxStreamWindow,
      maxStreamsBidi: transport.maxStreamsBidi,
      maxStreamsUni: transport.maxStreamsUni,
      sendBufferLimit: transport.sendBufferLimit,
    });
    this.recvMaxData = transport.connectionWindow;
    this.recvWindow = transport.connectionWindow;
    const random = config.tls.provider ?? nodeProvider;
    const resetKey = transport.statelessResetKey ?? random.randomBytes(32);
    const tokenFor = (cid: Uint8Array): Uint8Array => statelessResetToken(random, resetKey, cid);
    this.localCids = new LocalCids(ids.scid, () => {
      const cid = random.randomBytes(transport.cidLength);
      return { cid, resetToken: tokenFor(cid) };
    });
    this.peerCids = new PeerCids(isServer ? ids.peerScid! : ids.dcid, transport.activeConnectionIdLimit);
    // RFC 9000 §5.1.1: the preferred_address CID is sequence number 1, sent in the transport parameter only.
    if (isServer && transport.preferredAddress !== undefined) this.localCids.issueUnannounced();
    this.config = config;
    this.resetTokenFor = tokenFor;
    if (!isServer && (config as ClientConfig).addressToken !== undefined) this.retryToken = (config as ClientConfig).addressToken!;
    const session = isServer ? undefined : (config as ClientConfig).tls.session;
    if (sessionUsable(session, transport.version) && (config as ClientConfig).tls.earlyData === true && session.maxEarlyData > 0) {
      // RFC 9000 §7.4.1: 0-RTT runs under the limits the server gave on the connection the ticket came from.
      try {
        const tp = decodeTransportParameters(session.transportParameters, 'server');
        this.rememberedParams = tp;
        this.sendMaxData = tp.initialMaxData;
        this.streams.setPeerLimits(tp);
      } catch {
        this.rememberedParams = undefined;
      }
    }
    this.tls = this.makeTls(ids.scid, ids.dcid);
    this.provider = this.tls.provider;
    const role = isServer ? 'server' : 'client';
    const sink = transport.qlog?.(hex(ids.dcid), role);
    this.qlog = sink === undefined ? undefined : new QlogTrace(sink, role, hex(ids.dcid), now);
    this.qlog?.event(now, 'key_updated', { key_type: 'client_initial_secret', trigger: 'tls' });
    this.qlog?.event(now, 'key_updated', { key_type: 'server_initial_secret', trigger: 'tls' });
    // After a Retry the client's Initials are keyed from the Retry's SCID (RFC 9001 §5.2).
    const initial = PacketKeys.initial(this.provider, transport.version, ids.retryScid ?? ids.dcid);
    const sp = this.spaces[SPACE_INITIAL]!;
    sp.readKeys = isServer ? initial.client : initial.server;
    sp.writeKeys = isServer ? initial.server : initial.client;
    this.idleTimeoutUs = transport.idleTimeoutMs * 1000;
    this.idleDeadline = this.idleTimeoutUs > 0 ? now + this.idleTimeoutUs : Number.POSITIVE_INFINITY;
    if (!isServer) this.runTls(() => this.tls.start(now / 1000));
  }

  private readonly resetTokenFor: (cid: Uint8Array) => Uint8Array;
  private serverRetryScid: Uint8Array | undefined;
  /** Server: NEW_TOKEN to send (after confirmation), and in flight. */
  private newTokenPending: Uint8Array | undefined;

  /** The TLS side with our transport parameters for the current version. */
  private makeTls(scid: Uint8Array, dcid: Uint8Array): TlsConnection {
    const random = this.config.tls.provider ?? nodeProvider;
    // RFC 9000 §18.2: the server's stateless_reset_token is for the CID it chose in the handshake.
    const preferred = this.isServer ? this.localCids.bySeq(1) : undefined;
    const pa = this.transport.preferredAddress;
    const ids = this.isServer
      ? {
          initialScid: scid,
          originalDcid: dcid,
          ...(pa !== undefined && preferred !== undefined ? { preferredAddress: encodePreferredAddress(pa, preferred.cid, preferred.resetToken) } : {}),
          ...(this.serverRetryScid !== undefined ? { retryScid: this.serverRetryScid } : {}),
          resetToken: this.resetTokenFor(scid),
          grease: random.randomBytes(12),
        }
      : { initialScid: scid, grease: random.randomBytes(12) };
    const encodeFor = (version: number): Uint8Array => encodeTransportParameters(localTransportParameters({ ...this.transport, version }, ids));
    const tp = encodeFor(this.transport.version);
    if (!this.isServer) {
      const { session, ...tls } = (this.config as ClientConfig).tls;
      return new TlsClient({ ...tls, ...(sessionUsable(session, this.transport.version) ? { session } : {}), transportParameters: tp });
    }
    const tls = (this.config as ServerConfig).tls;
    const hook = tls.acceptEarlyData;
    const ours = decodeTransportParameters(tp, 'server');
    return new TlsServer({
      ...tls,
      transportParameters: tp,
      // RFC 9369 §5: a ticket resumes only a connection of the version that issued it (the version this one will
      // use, compatible negotiation included).
      acceptTicket: (appData, client) => {
        const issued = ticketVersion(appData);
        // Our tickets carry our transport parameters; other app data (an application's own) says nothing about it.
        return issued === undefined || issued === (client !== undefined ? this.negotiate(client) : this.transport.version);
      },
      // RFC 9368 §2.3: compatible version negotiation, decided once the client's version_information is known.
      transportParametersFor: (client) => {
        const v = this.negotiate(client);
        return v === this.transport.version ? tp : encodeFor(v);
      },
      // RFC 9000 §7.4.1: 0-RTT only if no limit went down since the ticket (its app data is our parameters then),
      // and only if the application agrees.
      acceptEarlyData: (req) => earlyParametersCompatible(req.ticketAppData, ours) && (hook?.(req) ?? true),
    });
  }

  /**
   * RFC 9368 §2.3 (server): our most preferred version that the client's first flight is compatible with and that
   * its version_information lists; the original version when there is none or the parameters do not decode (the
   * decoding error is reported when they are processed).
   */
  private chooseCompatibleVersion(clientParameters: Uint8Array): number {
    const original = this.transport.version;
    let vi;
    try {
      vi = decodeTransportParameters(clientParameters, 'client').versionInformation;
    } catch {
      return original;
    }
    if (vi === undefined || vi.chosenVersion !== original) return original;
    return this.transport.versions.find((v) => vi.availableVersions.includes(v) && areCompatibleVersions(original, v)) ?? original;
  }

  /** The compatible version choice, made once per connection (tickets and EncryptedExtensions both ask). */
  private negotiate(clientParameters: Uint8Array): number {
    this.negotiatedVersion ??= this.chooseCompatibleVersion(clientParameters);
    return this.negotiatedVersion;
  }

  /** Server: moves the handshake to the negotiated version (RFC 9369 §4); the client's Initials may still come in
   * the original version until its first Handshake packet. */
  private switchVersion(version: number, now: number): void {
    const sp = this.spaces[SPACE_INITIAL]!;
    this.originalInitialRead = sp.readKeys;
    const keys = PacketKeys.initial(this.provider, version, this.serverRetryScid ?? this.originalDcid);
    sp.readKeys = keys.client;
    sp.writeKeys = keys.server;
    this.transport = { ...this.transport, version };
    this.qlog?.event(now, 'version_information', { chosen_version: version.toString(16) });
  }

  /**
   * Client: a server Initial in another version is compatible version negotiation (RFC 9369 §4) when it comes
   * before any CRYPTO data from the server (whose arrival in the original version settles the version), in a
   * version we offered that our first flight is compatible with. Retry never changes the version.
   */
  private adoptableVersion(h: PacketHeader): boolean {
    return (
      !this.isServer &&
      h.type === PacketType.Initial &&
      this.transport.version === this.originalVersion &&
      !this.recovery.hasHandshakeKeys &&
      this.transport.versions.includes(h.version) &&
      areCompatibleVersions(this.originalVersion, h.version)
    );
  }

  /**
   * RFC 9000 §6.2: a client acts on a Version Negotiation packet only before anything else arrived from the
   * server, only if it echoes our connection IDs and does not list the version we used; it then starts over
   * with the first of our versions the server offers (or gives up), remembering the offer to check the server's
   * version_information against downgrades (RFC 9368 §4).
   */
  private onVersionNegotiation(h: PacketHeader, now: number): void {
    if (this.isServer || this.peerInitialScid !== undefined || this.retryScid !== undefined || this.negotiatedFrom !== undefined) return;
    if (!equal(h.dcid, this.localCids.issued[0]!.cid) || !equal(h.scid, this.originalDcid)) return;
    const offered = h.supportedVersions;
    if (offered.includes(this.transport.version)) return;
    const next = this.transport.versions.find((v) => offered.includes(v));
    this.negotiatedFrom = offered;
    if (next === undefined) {
      this.closeEvent = { type: 'closed', errorCode: TransportErrorCode.VERSION_NEGOTIATION_ERROR, isApplication: false, reason: `no common version (server offers ${offered.map((v) => '0x' + v.toString(16)).join(', ')})`, byPeer: false, idle: false };
      this.finishClose();
      return;
    }
    // Start over in the new version: fresh spaces, keys, recovery and TLS state; nothing was processed yet.
    this.transport = { ...this.transport, version: next };
    this.originalVersion = next;
    this.recovery.resetForRetry(SPACE_INITIAL);
    this.spaces = [new PacketSpace(true), new PacketSpace(true), new PacketSpace(false)];
    const keys = PacketKeys.initial(this.provider, next, this.originalDcid);
    this.spaces[SPACE_INITIAL]!.readKeys = keys.server;
    this.spaces[SPACE_INITIAL]!.writeKeys = keys.client;
    this.tls = this.makeTls(this.localCids.issued[0]!.cid, this.originalDcid);
    this.runTls(() => this.tls.start(now / 1000));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Application API

  pollEvent(): ConnectionEvent | undefined {
    return this.events.shift();
  }

  /** Opens a stream; undefined while the peer's stream limit does not allow one (an event says when it does). */
  openStream(bidirectional = true): number | undefined {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') throw new Error('connection closed');
    return this.streams.open(bidirectional);
  }

  /** Queues data on a stream; returns how many bytes were accepted (the rest: wait for 'stream-writable'). */
  streamWrite(id: number, data: Uint8Array, fin = false): number {
    const s = this.streams.send.get(id);
    if (s === undefined) throw new Error(`stream ${id} cannot be written`);
    const n = s.write(data, fin);
    this.queueStream(id);
    return n;
  }

  streamFinish(id: number): void {
    const s = this.streams.send.get(id);
    if (s === undefined) throw new Error(`stream ${id} cannot be written`);
    s.finish();
    this.queueStream(id);
  }

  /** Sets a stream's scheduling priority (RFC 9218: urgency 0-7, lower first; incremental or sequential). */
  setStreamPriority(id: number, urgency: number, incremental: boolean): void {
    this.scheduler.set(id, { urgency, incremental });
  }

  /** Puts a stream in a container priority class (Critical, Health, GamingTelemetry, Logs, Bulk). */
  setStreamClass(id: number, cls: PriorityClass): void {
    this.scheduler.set(id, { class: cls });
  }

  /**
   * A game session starts or ends (undefined: back to detection by the gaming controller): GamingTelemetry streams
   * are served at Critical's level and the gaming controller, when in use, caps the window.
   */
  setGamingSession(active: boolean | undefined): void {
    const cc = this.recovery.cc as Partial<GamingController>;
    cc.setGamingSession?.(active, this.lastNow);
    this.scheduler.setGamingActive(active ?? cc.gamingActive ?? false);
  }

  /** Bytes the stream accepts now. */
  streamWritable(id: number): number {
    return this.streams.send.get(id)?.writable ?? 0;
  }

  /** Reads from a stream: null when nothing is available now; `fin` marks the end. */
  streamRead(id: number, max = 65536, now = 0): { data: Uint8Array; fin: boolean } | null {
    const r = this.streams.recv.get(id);
    if (r === undefined) return null;
    const before = r.readOffset;
    const out = r.read(max, now, this.recovery.rtt.smoothedRtt);
    this.onConsumed(r.readOffset - before, now);
    if (r.maxDataPending) this.pendingStreamControl.add(id);
    if (out?.fin === true) this.streams.collect();
    return out;
  }

  streamReset(id: number, errorCode: number | bigint): void {
    const s = this.streams.send.get(id);
    if (s === undefined) return;
    s.reset(errorCode);
    this.pendingStreamControl.add(id);
  }

  streamStopSending(id: number, errorCode: number | bigint, now = 0): void {
    const r = this.streams.recv.get(id);
    if (r === undefined) return;
    this.onConsumed(r.stopSending(errorCode), now);
    this.pendingStreamControl.add(id);
    if (r.isFinished) this.streams.collect();
  }

  /** Closes at once with a transport error (e.g. INVALID_TOKEN from the endpoint, RFC 9000 §8.1.3). */
  closeWithError(code: number, reason: string, now: number): void {
    this.onError(new QuicError(code, reason), now);
  }

  /** Closes the connection (RFC 9000 §10.2): CONNECTION_CLOSE, then the closing period. */
  close(errorCode: number | bigint, reason = '', isApplication = true, now = 0): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    this.enterClosing({ type: 'connection_close', isApplication, errorCode, frameType: 0, reason }, now);
    this.closeEvent = { type: 'closed', errorCode, isApplication, reason, byPeer: false, idle: false };
  }

  /**
   * Asks for a 1-RTT key update (RFC 9001 §6.1). It starts with the next packet once allowed: the handshake
   * confirmed and the previous update acknowledged.
   */
  updateKeys(): void {
    this.keyUpdateRequested = true;
  }

  /** Client: 0-RTT keys are in hand and the server has not refused them; streams opened now go out as 0-RTT. */
  get canSendEarlyData(): boolean {
    return !this.handshakeComplete && this.zeroRttWrite !== undefined && this.earlyDataAccepted !== false;
  }

  /** Key updates done so far (ours and the peer's). */
  get keyUpdates(): number {
    return this.keyUpdate?.keys.generation ?? 0;
  }

  stats(): ConnectionStats {
    const r = this.recovery;
    return {
      rttUs: r.rtt.smoothedRtt,
      minRttUs: r.rtt.minRtt,
      cwnd: r.cc.window,
      bytesInFlight: r.bytesInFlight,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      packetsSent: this.packetsSent,
      packetsReceived: this.packetsReceived,
      packetsLost: r.packetsLost,
      zeroRttPacketsSent: this.zeroRttPacketsSent,
      zeroRttPacketsReceived: this.zeroRttPacketsReceived,
      congestion: r.cc.metrics(),
    };
  }

  private get isDrainingOrClosed(): boolean {
    return this.state === 'draining' || this.state === 'closed';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** The DCID of the Initial the client sent first (server: what the endpoint routed on). */
  get originalDestinationCid(): Uint8Array {
    return this.originalDcid;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Receiving

  /**
   * A UDP datagram for this connection. Header protection is removed and payloads decrypted in place: the
   * buffer is ours until this returns. Never throws for network input: errors close the connection.
   */
  handleDatagram(datagram: Uint8Array, now: number, from?: PathAddress): void {
    if (this.state === 'closed') return;
    this.datagramPath = from;
    if (from !== undefined && this.path === undefined) this.path = { addr: from, validated: true, received: 0, sent: 0, challenge: undefined, challengeDeadline: Infinity };
    if (from !== undefined && this.path !== undefined && samePath(from, this.path.addr)) this.path.received += datagram.length;
    this.bytesReceived += datagram.length;
    if (!this.addressValidated) this.bytesReceivedUnvalidated += datagram.length;
    let offset = 0;
    while (offset < datagram.length) {
      const h = this.header;
      try {
        parsePacketHeader(datagram, offset, this.transport.cidLength, h);
      } catch {
        this.checkStatelessReset(datagram, now);
        return; // RFC 9000 §12.2: the rest of the datagram is dropped
      }
      offset = h.end;
      try {
        this.handlePacket(h, now);
      } catch (e) {
        this.onError(e, now);
        return;
      }
      if (this.isClosed) return;
    }
  }

  /** The address validation token from a Retry, sent in every later Initial (RFC 9000 §8.1.2). */
  private retryToken: Uint8Array = new Uint8Array(0);
  /** The Retry's SCID, checked against retry_source_connection_id (RFC 9000 §7.3). */
  private retryScid: Uint8Array | undefined;

  /**
   * RFC 9000 §17.2.5.2: a client accepts one Retry, before any other packet from the server, with a valid
   * integrity tag (RFC 9001 §5.8); it then sends its Initials to the new CID, with the token, under Initial keys
   * derived from that CID, and resets recovery for the Initial space (RFC 9002 §6.3).
   */
  private onRetry(h: PacketHeader): void {
    if (this.isServer || this.retryScid !== undefined || this.peerInitialScid !== undefined) return;
    if (h.tokenLength === 0) return;
    const withoutTag = h.buf.subarray(h.offset, h.end - 16);
    const tag = retryIntegrityTag(this.provider, this.transport.version, retryPseudoPacket(this.originalDcid, withoutTag));
    if (!equalBytes(tag, h.retryIntegrityTag)) return;
    const scid = h.buf.slice(h.scidOffset, h.scidOffset + h.scidLength);
    this.retryScid = scid;
    this.retryToken = h.token.slice();
    this.peerCids.replaceInitial(scid);
    const keys = PacketKeys.initial(this.provider, this.transport.version, scid);
    const sp = this.spaces[SPACE_INITIAL]!;
    sp.readKeys = keys.server;
    sp.writeKeys = keys.client;
    for (const p of this.recovery.resetForRetry(SPACE_INITIAL)) this.onPacketLost(SPACE_INITIAL, p.frames);
  }

  /**
   * RFC 9000 §10.3.1: a datagram that cannot be processed and ends with one of the peer's stateless reset tokens
   * ends the connection at once (draining, nothing more sent). Returns true when it was a reset.
   */
  checkStatelessReset(datagram: Uint8Array, now: number): boolean {
    if (datagram.length < 21 || this.isDrainingOrClosed) return false;
    const tail = datagram.subarray(datagram.length - STATELESS_RESET_TOKEN_LENGTH);
    for (const c of this.peerCids.active) {
      if (c.resetToken === undefined || !equalBytes(c.resetToken, tail)) continue;
      this.closeEvent = { type: 'closed', errorCode: 0, isApplication: false, reason: 'stateless reset', byPeer: true, idle: false };
      this.state = 'draining';
      this.closeDeadline = now;
      this.finishClose();
      return true;
    }
    return false;
  }

  private spaceOfType(type: number): SpaceId | -1 {
    if (type === PacketType.Initial) return SPACE_INITIAL;
    if (type === PacketType.Handshake) return SPACE_HANDSHAKE;
    if (type === PacketType.OneRtt || type === PacketType.ZeroRtt) return SPACE_APPLICATION;
    return -1; // Retry, Version Negotiation
  }

  private handlePacket(h: PacketHeader, now: number): void {
    if (h.isLong && h.type === PacketType.VersionNegotiation) return this.onVersionNegotiation(h, now);
    // Packets of another version (RFC 9369 §4): the server still takes the original version's Initials and 0-RTT
    // after switching; the client may be learning the negotiated version. Everything else is dropped.
    let readKeys: PacketKeys | undefined;
    let adopt: { client: PacketKeys; server: PacketKeys } | undefined;
    if (h.isLong && h.version !== this.transport.version) {
      if (this.isServer) {
        if (h.version !== this.originalVersion) return;
        if (h.type === PacketType.Initial && this.originalInitialRead !== undefined) readKeys = this.originalInitialRead;
        else if (h.type !== PacketType.ZeroRtt) return;
      } else {
        if (!this.adoptableVersion(h)) return;
        adopt = PacketKeys.initial(this.provider, h.version, this.retryScid ?? this.originalDcid);
        readKeys = adopt.server;
      }
    }
    // RFC 9000 §17.2: the QUIC bit must be set, unless we advertised grease_quic_bit (RFC 9287 §3).
    if (!h.fixedBit && !this.transport.greaseQuicBit) return;
    if (h.type === PacketType.Retry) return this.onRetry(h);
    const spaceId = this.spaceOfType(h.type);
    if (spaceId === -1) return;
    const space = this.spaces[spaceId]!;
    const zeroRtt = h.type === PacketType.ZeroRtt;
    if (zeroRtt && this.isServer === false) return; // only clients send 0-RTT
    const keys = zeroRtt ? this.zeroRttRead : readKeys ?? space.readKeys;
    if (keys === undefined) return; // no keys (yet, or any more): dropped (RFC 9001 §4.9, §5.7)
    if (h.pnOffset + 20 > h.end) return; // too short to sample (RFC 9001 §5.4.2)
    keys.removeHeaderProtection(h.buf, h.offset, h.pnOffset);
    const first = h.buf[h.offset]!;
    const pnLength = (first & 0x03) + 1;
    const truncated = readUint(h.buf, h.pnOffset, pnLength);
    const pn = decodePacketNumber(space.acks.largest, truncated, pnLength);
    const payloadOffset = h.pnOffset + pnLength;
    const ku = spaceId === SPACE_APPLICATION && !zeroRtt ? this.keyUpdate : undefined;
    let plainEnd: number;
    let which: 'current' | 'previous' | 'next' = 'current';
    if (ku !== undefined) {
      const sel = ku.readKeysFor((first >> 2) & 1, pn);
      which = sel.which;
      plainEnd = sel.keys.open(h.buf, h.offset, payloadOffset, h.end, pn);
      if (plainEnd < 0) {
        if (this.checkStatelessReset(h.buf, now)) return;
        // RFC 9001 §6.6: too many forgeries across all keys ends the connection.
        const limit = this.transport.integrityLimit ?? sel.keys.suite.integrityLimit;
        if (++ku.failures > limit) throw new QuicError(TransportErrorCode.AEAD_LIMIT_REACHED, 'integrity limit reached');
        return;
      }
    } else {
      plainEnd = keys.open(h.buf, h.offset, payloadOffset, h.end, pn);
    }
    if (plainEnd < 0) {
      if (!h.isLong) this.checkStatelessReset(h.buf, now);
      return; // forged or corrupted: dropped
    }
    if (adopt !== undefined) {
      // The client learns the negotiated version from the first authenticated Initial in it (RFC 9369 §4).
      space.readKeys = adopt.server;
      space.writeKeys = adopt.client;
      this.transport = { ...this.transport, version: h.version };
      this.qlog?.event(now, 'version_information', { chosen_version: h.version.toString(16) });
    }
    // RFC 9000 §17.2, §17.3.1: reserved bits must be zero once the packet is authenticated.
    const reserved = h.isLong ? (first >> 2) & 0x03 : (first >> 3) & 0x03;
    if (reserved !== 0) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'reserved header bits set');
    if (space.acks.isDuplicate(pn)) return;
    if (ku !== undefined && ku.onDecrypted(which, pn, now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs))) {
      // The peer updated its keys; we follow (RFC 9001 §6.2).
      space.readKeys = ku.keys.read;
      space.writeKeys = ku.keys.write;
      this.qlog?.event(now, 'key_updated', { key_type: 'client_1rtt_secret', key_phase: ku.keys.generation, trigger: 'remote_update' });
      this.qlog?.event(now, 'key_updated', { key_type: 'server_1rtt_secret', key_phase: ku.keys.generation, trigger: 'remote_update' });
    }
    this.packetsReceived++;
    if (zeroRtt) this.zeroRttPacketsReceived++;
    if (this.state === 'draining') return;
    if (this.state === 'closing') {
      this.closeSendPending = true; // §10.2.1: answer with CONNECTION_CLOSE again
      return;
    }
    // The client learns the server's chosen connection ID from its first packet (RFC 9000 §7.2).
    if (!this.isServer && h.isLong && this.peerInitialScid === undefined) {
      this.peerInitialScid = h.buf.slice(h.scidOffset, h.scidOffset + h.scidLength);
      this.peerCids.replaceInitial(this.peerInitialScid);
    }
    // RFC 9000 §8.1: a Handshake packet from the client proves its address; the server drops Initial keys
    // (RFC 9001 §4.9.1).
    if (this.isServer && spaceId === SPACE_HANDSHAKE) {
      this.originalInitialRead = undefined;
      this.addressValidated = true;
      this.recovery.amplificationBlocked = false;
      this.dropSpace(SPACE_INITIAL);
    }
    if (this.qlog !== undefined) this.qlogFrames = [];
    const ackEliciting = this.processFrames(spaceId, h, payloadOffset, plainEnd, now);
    if (this.qlog !== undefined) {
      this.qlog.event(now, 'packet_received', { header: { packet_type: zeroRtt ? '0RTT' : QLOG_PACKET_TYPES[spaceId], packet_number: pn }, raw: { length: h.end - h.offset }, frames: this.qlogFrames });
      this.qlogFrames = undefined;
      this.logMetrics(now);
    }
    if (this.spaces[spaceId]!.discarded) return;
    // RFC 9000 §9.3: a non-probing packet with the highest packet number from a new address moves the peer there.
    if (spaceId === SPACE_APPLICATION && this.nonProbing && pn > space.acks.largest) this.maybeMigrate(now);
    space.acks.onPacketReceived(pn, ackEliciting, now, this.transport.maxAckDelayMs * 1000);
    // §10.1: receiving a packet restarts the idle timer.
    this.ackElicitingSentSinceRecv = false;
    this.restartIdleTimer(now);
  }

  private processFrames(spaceId: SpaceId, h: PacketHeader, start: number, end: number, now: number): boolean {
    if (start === end) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'packet without frames');
    const r = this.reader.reset(h.buf, start, end);
    const packetType = h.type as PacketType;
    let ackEliciting = false;
    this.nonProbing = false;
    while (r.remaining > 0) {
      const frameStart = r.pos;
      const f = readFrame(r);
      // Every frame type we decode is below 0x40: its minimal encoding is the first byte.
      const type = h.buf[frameStart]!;
      checkFrameAllowed(type, packetType);
      this.qlogFrames?.push(qlogFrame(f));
      if (isAckEliciting(type)) ackEliciting = true;
      if (!isProbingFrame(type)) this.nonProbing = true;
      this.handleFrame(spaceId, f, type, h, now);
      if (this.isDrainingOrClosed || this.spaces[spaceId]!.discarded) break;
    }
    return ackEliciting;
  }

  private handleFrame(spaceId: SpaceId, f: Frame, type: number, h: PacketHeader, now: number): void {
    switch (f.type) {
      case 'padding':
      case 'ping':
        return;
      case 'ack':
        return this.onAck(spaceId, f.ranges, f.ackDelay, now);
      case 'crypto':
        return this.onCrypto(spaceId, f.offset, f.data, now);
      case 'stream': {
        this.streams.forPeerFrame(f.streamId, 'recv', type);
        this.announceNewStreams();
        const r = this.streams.recv.get(f.streamId);
        if (r === undefined) return;
        const grew = r.onData(f.offset, f.data, f.fin);
        this.onPeerData(grew, type);
        if (r.stopSendingCode !== undefined) {
          // Discarded data still counts as consumed, so the connection window moves on (§4.5).
          this.onConsumed(grew, now);
          if (r.isFinished) this.streams.collect();
          return;
        }
        if (r.isReadable) this.emit({ type: 'stream-readable', streamId: f.streamId });
        return;
      }
      case 'reset_stream': {
        this.streams.forPeerFrame(f.streamId, 'recv', type);
        this.announceNewStreams();
        const r = this.streams.recv.get(f.streamId);
        if (r === undefined) return;
        const unread = r.highestOffset - r.readOffset;
        const grew = r.onReset(f.errorCode, f.finalSize);
        this.onPeerData(grew, type);
        this.onConsumed(unread + grew, now);
        this.emit({ type: 'stream-reset', streamId: f.streamId, errorCode: f.errorCode });
        if (r.isFinished) this.streams.collect();
        return;
      }
      case 'stop_sending': {
        this.streams.forPeerFrame(f.streamId, 'send', type);
        this.announceNewStreams();
        const s = this.streams.send.get(f.streamId);
        if (s === undefined) return;
        s.stopSendingCode = f.errorCode;
        // RFC 9000 §3.5: answer with RESET_STREAM.
        s.reset(f.errorCode);
        this.pendingStreamControl.add(f.streamId);
        this.emit({ type: 'stream-stopped', streamId: f.streamId, errorCode: f.errorCode });
        return;
      }
      case 'max_data':
        if (f.maximum > this.sendMaxData) {
          this.sendMaxData = f.maximum;
          this.requeueAll();
        }
        return;
      case 'max_stream_data': {
        this.streams.forPeerFrame(f.streamId, 'send', type);
        this.announceNewStreams();
        const s = this.streams.send.get(f.streamId);
        if (s !== undefined && f.maximum > s.maxData) {
          s.maxData = f.maximum;
          this.queueStream(f.streamId);
          this.emit({ type: 'stream-writable', streamId: f.streamId });
        }
        return;
      }
      case 'max_streams': {
        const before = f.bidirectional ? this.streams.peerMaxBidi : this.streams.peerMaxUni;
        this.streams.onMaxStreams(f.bidirectional, f.maximum);
        if (f.maximum > before) this.emit({ type: 'streams-available', bidirectional: f.bidirectional });
        return;
      }
      case 'data_blocked':
      case 'streams_blocked':
        return; // informational
      case 'stream_data_blocked':
        this.streams.forPeerFrame(f.streamId, 'recv', type);
        this.announceNewStreams();
        return;
      case 'new_token':
        if (this.isServer) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'NEW_TOKEN from a client', type);
        this.emit({ type: 'new-token', token: f.token.slice() });
        return;
      case 'new_connection_id':
        this.peerCids.onNew(f.sequenceNumber, f.retirePriorTo, f.connectionId, f.statelessResetToken, type);
        return;
      case 'retire_connection_id':
        this.localCids.retire(f.sequenceNumber, h.dcid, type);
        this.localCids.fill(this.cidLimit());
        return;
      case 'path_challenge':
        // §8.2.2: answer every challenge (on the current path; with one peer address in use that is where it came).
        if (this.pathResponses.length < 8) this.pathResponses.push(f.data.slice());
        return;
      case 'path_response':
        this.onPathResponse(f.data, now);
        return;
      case 'connection_close':
        this.onPeerClose(f.errorCode, f.isApplication, f.reason, now);
        return;
      case 'handshake_done':
        if (this.isServer) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'HANDSHAKE_DONE from a client', type);
        this.onHandshakeConfirmed();
        return;
      case 'datagram':
        return this.onDatagram(f.data, f.withLength, type);
    }
  }

  private readonly pathResponses: Uint8Array[] = [];
  /** A path being probed beside the one in use. */
  private probe: PathProbe | undefined;
  /** Where the datagram pollTransmit just wrote goes, when not to `peerAddress` (a probe on another path). */
  transmitTo: PathAddress | undefined;
  /** The client moved to the server's preferred address (stats). */
  usingPreferredAddress = false;

  // Paths (RFC 9000 §8.2, §9). Addresses are opaque to the core; the endpoint compares and sends to them.
  /** The peer's current address and whether it is validated; the previous one, to fall back to. */
  private path: PathState | undefined;
  private previousPath: PathState | undefined;
  private datagramPath: PathAddress | undefined;
  private nonProbing = false;
  /** Migrations followed (stats). */
  migrations = 0;

  /** Where to send: the peer's current address (undefined before the first datagram). */
  get peerAddress(): PathAddress | undefined {
    return this.path?.addr;
  }

  /**
   * Server side of migration and NAT rebinding (§9.3): the peer now sends from another address. Validate it with
   * PATH_CHALLENGE (with the 3x amplification limit on it until then), reset congestion control and RTT unless
   * only the port changed (§9.4), and keep the old path to return to if validation fails.
   */
  private maybeMigrate(now: number): void {
    const from = this.datagramPath;
    if (from === undefined || this.path === undefined || samePath(from, this.path.addr) || !this.isServer || !this.handshakeConfirmed) return;
    const portOnly = from.address === this.path.addr.address;
    // §9.3.3: validate the previously active path too, so that a forwarding attacker cannot keep us on its path.
    if (this.path.validated) this.startProbe('old-path', this.path.addr, this.peerCids.current, now);
    this.previousPath = this.path.validated ? this.path : this.previousPath;
    this.path = { addr: from, validated: false, received: 0, sent: 0, challenge: this.provider.randomBytes(8), challengeDeadline: now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs) };
    this.pathChallengePending = true;
    this.migrations++;
    if (!portOnly) this.recovery.resetPath(this.transport.congestionController(this.mtu.current));
    this.qlog?.event(now, 'migration_state_updated', { new: 'started' });
  }

  private onPathResponse(data: Uint8Array, now: number): void {
    const probe = this.probe;
    if (probe !== undefined && equalBytes(probe.challenge, data)) {
      this.probe = undefined;
      if (probe.kind === 'preferred') this.moveToPreferredAddress(probe, now);
      // An old path that answers stays as it is: only a non-probing packet from it moves us back (§9.3.3).
      return;
    }
    const p = this.path;
    if (p === undefined || p.challenge === undefined || !equalBytes(p.challenge, data)) return;
    p.validated = true;
    p.challenge = undefined;
    p.challengeDeadline = Number.POSITIVE_INFINITY;
    this.previousPath = undefined;
    this.qlog?.event(now, 'migration_state_updated', { new: 'complete' });
  }

  /** §8.2.4: validation failed — back to the previous validated path, or give up. */
  private onPathValidationTimeout(now: number): void {
    const prev = this.previousPath;
    if (prev !== undefined) {
      this.path = prev;
      this.previousPath = undefined;
      return;
    }
    this.closeEvent = { type: 'closed', errorCode: TransportErrorCode.NO_VIABLE_PATH, isApplication: false, reason: 'path validation failed', byPeer: false, idle: false };
    this.enterClosing({ type: 'connection_close', isApplication: false, errorCode: TransportErrorCode.NO_VIABLE_PATH, frameType: 0, reason: 'path validation failed' }, now);
  }

  private pathChallengePending = false;

  /**
   * Client-initiated migration (RFC 9000 §9.2, §9.5): call when the local address changed (a new socket). Switches
   * to an unused connection ID from the peer (retiring the old one), starts congestion control and RTT over, and
   * validates the path with PATH_CHALLENGE. Throws when the server asked for no migration or gave no spare CID.
   */
  migrate(now: number): void {
    if (this.isServer) throw new Error('only clients migrate');
    if (!this.handshakeConfirmed) throw new Error('migration needs a confirmed handshake (RFC 9000 §9)');
    if (this.peerParams?.disableActiveMigration === true) throw new Error('the server sent disable_active_migration');
    const next = this.peerCids.active.find((c) => c.seq !== this.peerCids.current.seq && c.seq !== this.probe?.cid.seq);
    if (next === undefined) throw new Error('no spare connection ID from the peer to migrate with');
    this.usePeerCid(next);
    if (this.path !== undefined) {
      this.path = { ...this.path, validated: false, received: 0, sent: 0, challenge: this.provider.randomBytes(8), challengeDeadline: now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs) };
      this.pathChallengePending = true;
    }
    this.previousPath = undefined;
    this.recovery.resetPath(this.transport.congestionController(this.mtu.current));
    this.migrations++;
  }

  /** §9.5: a new path gets a new connection ID; the old one is retired. */
  private usePeerCid(next: PeerCid): void {
    const old = this.peerCids.current;
    this.peerCids.active.splice(this.peerCids.active.indexOf(old), 1);
    this.peerCids.pendingRetire.push(old.seq);
    this.peerCids.current = next;
  }

  /** §9.6.3: the preferred address is validated — send everything there with its CID; the old address is done. */
  private moveToPreferredAddress(probe: PathProbe, now: number): void {
    if (this.peerCids.active.includes(probe.cid) && probe.cid !== this.peerCids.current) this.usePeerCid(probe.cid);
    this.path = { addr: probe.addr, validated: true, received: 0, sent: 0, challenge: undefined, challengeDeadline: Number.POSITIVE_INFINITY };
    this.previousPath = undefined;
    // §9.4: a new server address is a new path: congestion control and RTT start over.
    this.recovery.resetPath(this.transport.congestionController(this.mtu.current));
    this.usingPreferredAddress = true;
    this.migrations++;
    this.qlog?.event(now, 'migration_state_updated', { new: 'complete', preferred_address: `${probe.addr.address}:${probe.addr.port}` });
  }

  /** The probe's PATH_CHALLENGE, padded to 1200 bytes (§8.2.1), to the probed address with the probe's CID. */
  private sendProbe(now: number, out: Uint8Array): number {
    const probe = this.probe;
    if (probe === undefined || !probe.sendPending || this.spaces[SPACE_APPLICATION]!.writeKeys === undefined || out.length < MIN_INITIAL_DATAGRAM || this.state !== 'established') return 0;
    const size = MIN_INITIAL_DATAGRAM;
    const pn = this.sealPadded(out, size, probe.cid.cid, { type: 'path_challenge', data: probe.challenge });
    // Not in flight: a probe of another path must not count for this path's congestion control or RTT (§9.4).
    this.recovery.onPacketSent(SPACE_APPLICATION, new SentPacket(pn, now, size, true, false, false, [], false));
    probe.sendPending = false;
    probe.tries++;
    probe.deadline = now + this.recovery.rtt.pto(this.recovery.maxAckDelayUs);
    this.transmitTo = probe.addr;
    this.qlog?.event(now, 'packet_sent', { header: { packet_type: '1RTT', packet_number: pn }, raw: { length: size }, frames: [{ frame_type: 'path_challenge' }, { frame_type: 'padding' }] });
    return size;
  }

  /** A probe's PTO passed without a PATH_RESPONSE: challenge again, or give up (the path in use stays). */
  private onProbeTimeout(now: number): void {
    const probe = this.probe!;
    if (probe.tries >= PROBE_TRIES) {
      this.probe = undefined;
      this.qlog?.event(now, 'migration_state_updated', { new: 'probe_failed', kind: probe.kind });
      return;
    }
    probe.challenge = this.provider.randomBytes(8);
    probe.sendPending = true;
    probe.deadline = Number.POSITIVE_INFINITY;
  }

  // RFC 9221 DATAGRAM: bounded queues, drop-oldest, never retransmitted.
  private readonly datagramsOut: Uint8Array[] = [];
  private readonly datagramsIn: Uint8Array[] = [];
  /** Datagrams dropped: from our send queue when full, and received ones the application did not read in time. */
  datagramsDropped = 0;

  private onDatagram(data: Uint8Array, withLength: boolean, frameType: number): void {
    const max = this.transport.maxDatagramFrameSize;
    // §3: DATAGRAM without having advertised support, or a frame larger than advertised, is a PROTOCOL_VIOLATION.
    if (max === 0) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'DATAGRAM frames were not negotiated', frameType);
    const frameBytes = 1 + (withLength ? varintSize(data.length) : 0) + data.length;
    if (frameBytes > max) throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, 'DATAGRAM frame larger than max_datagram_frame_size', frameType);
    if (this.datagramsIn.length >= this.transport.datagramRecvQueue) {
      this.datagramsIn.shift();
      this.datagramsDropped++;
    }
    this.datagramsIn.push(data.slice());
    if (this.datagramsIn.length === 1) this.emit({ type: 'datagrams-readable' });
  }

  /** The largest datagram payload we may send now (0: the peer does not accept DATAGRAM frames). */
  get maxDatagramPayload(): number {
    const peer = this.peerParams?.maxDatagramFrameSize;
    if (peer === undefined || peer === 0) return 0;
    // One short-header packet: header (1 + DCID + 4-byte pn), the frame's type and length, the AEAD tag.
    // Datagrams must fit the base size: the path's size may fall back to it at any time.
    const room = Math.min(this.mtu.current, MIN_INITIAL_DATAGRAM) - (1 + this.peerCids.current.cid.length + 4) - AEAD_TAG - 1 - 2;
    return Math.max(0, Math.min(peer - 1 - 2, room));
  }

  /**
   * Queues a datagram (RFC 9221). Throws when the peer does not support DATAGRAM or the payload is too large
   * for it; when the queue is full the oldest queued datagram is dropped.
   */
  sendDatagram(data: Uint8Array): void {
    const max = this.maxDatagramPayload;
    if (max === 0) throw new Error('the peer does not accept DATAGRAM frames');
    if (data.length > max) throw new RangeError(`datagram of ${data.length} bytes exceeds the ${max} that fit`);
    if (this.datagramsOut.length >= this.transport.datagramSendQueue) {
      this.datagramsOut.shift();
      this.datagramsDropped++;
    }
    this.datagramsOut.push(data.slice());
  }

  /** The next received datagram, or undefined. */
  readDatagram(): Uint8Array | undefined {
    return this.datagramsIn.shift();
  }

  private onAck(spaceId: SpaceId, ranges: number[], ackDelayField: number, now: number): void {
    const exponent = this.peerParams?.ackDelayExponent ?? 3;
    const out = this.recovery.onAckReceived(spaceId, ranges, ackDelayField * 2 ** exponent, now);
    if (spaceId === SPACE_APPLICATION) this.keyUpdate?.onAckReceived(ranges[0]!);
    // RFC 9002 §6.2.2.1 / A.6: a client knows the server validated its address once a Handshake packet is ACKed.
    if (!this.isServer && spaceId === SPACE_HANDSHAKE) this.recovery.peerCompletedAddressValidation = true;
    for (const p of out.acked) {
      this.onPacketAcked(spaceId, p.frames);
      if (spaceId === SPACE_APPLICATION) this.mtuOnPacket(p.size, p.mtuProbe, false, now);
    }
    for (const p of out.lost) {
      if (spaceId === SPACE_APPLICATION) this.mtuOnPacket(p.size, p.mtuProbe, true, now);
      this.qlog?.event(now, 'packet_lost', { header: { packet_type: QLOG_PACKET_TYPES[spaceId], packet_number: p.pn }, trigger: 'reordering_threshold' });
      this.onPacketLost(spaceId, p.frames);
    }
  }

  /** quic:recovery_metrics_updated, only when something changed (RTTs in ms). */
  private logMetrics(now: number): void {
    const r = this.recovery;
    const m = {
      min_rtt: Number.isFinite(r.rtt.minRtt) ? r.rtt.minRtt / 1000 : undefined,
      smoothed_rtt: r.rtt.smoothedRtt / 1000,
      latest_rtt: r.rtt.latestRtt / 1000,
      rtt_variance: r.rtt.rttVar / 1000,
      pto_count: r.ptoCount,
      congestion_window: r.cc.window,
      bytes_in_flight: r.bytesInFlight,
      ssthresh: Number.isFinite(r.cc.ssthresh) ? r.cc.ssthresh : undefined,
      pacing_rate: pacingBps(r.cc.pacingRate(r.rtt)),
    };
    // qlog recovery:congestion_state_updated when the controller changes phase (slow start, recovery, probe...).
    const phase = r.cc.metrics().phase;
    if (phase !== this.lastPhase) {
      this.qlog!.event(now, 'congestion_state_updated', { ...(this.lastPhase !== undefined ? { old: this.lastPhase } : {}), new: phase, controller: r.cc.name });
      this.lastPhase = phase;
    }
    const key = JSON.stringify(m);
    if (key === this.lastMetrics) return;
    this.lastMetrics = key;
    this.qlog!.event(now, 'recovery_metrics_updated', m);
  }

  private onPacketAcked(spaceId: SpaceId, frames: SentFrames): void {
    const space = this.spaces[spaceId]!;
    for (const f of frames) {
      switch (f.kind) {
        case SF_CRYPTO:
          space.cryptoSend.onAcked(f.a, f.b, false);
          break;
        case SF_STREAM: {
          const s = this.streams.send.get(f.a);
          if (s === undefined) break;
          const before = s.writable;
          s.onAcked(f.b, f.c, f.fin);
          if (s.writable > before && before < s.bufferLimit / 2) this.emit({ type: 'stream-writable', streamId: f.a });
          if (s.isDone) this.streams.collect();
          break;
        }
        case SF_RESET_STREAM: {
          const s = this.streams.send.get(f.a);
          if (s !== undefined) {
            s.state = 'reset-recvd';
            this.streams.collect();
          }
          break;
        }
        default:
          break;
      }
    }
  }

  private onPacketLost(spaceId: SpaceId, frames: SentFrames): void {
    const space = this.spaces[spaceId]!;
    for (const f of frames) {
      switch (f.kind) {
        case SF_CRYPTO:
          space.cryptoSend.onLost(f.a, f.b, false);
          break;
        case SF_STREAM: {
          const s = this.streams.send.get(f.a);
          if (s === undefined) break;
          s.onLost(f.b, f.c, f.fin);
          this.retransmits.add(f.a);
          this.queueStream(f.a);
          break;
        }
        case SF_HANDSHAKE_DONE:
          this.handshakeDonePending = true;
          break;
        case SF_NEW_TOKEN:
          if (this.newTokenSent !== undefined) this.newTokenPending = this.newTokenSent;
          break;
        case SF_MAX_DATA:
          this.maxDataPending = true;
          break;
        case SF_MAX_STREAM_DATA: {
          const r = this.streams.recv.get(f.a);
          if (r !== undefined && r.finalSize < 0) {
            r.maxDataPending = true;
            this.pendingStreamControl.add(f.a);
          }
          break;
        }
        case SF_RESET_STREAM: {
          const s = this.streams.send.get(f.a);
          if (s !== undefined && s.state === 'reset-sent') {
            s.resetPending = true;
            this.pendingStreamControl.add(f.a);
          }
          break;
        }
        case SF_STOP_SENDING: {
          const r = this.streams.recv.get(f.a);
          if (r !== undefined && r.stopSendingCode !== undefined && r.resetCode === undefined) {
            r.stopSendingPending = true;
            this.pendingStreamControl.add(f.a);
          }
          break;
        }
        case SF_MAX_STREAMS:
          if (f.a === 1) this.streams.maxStreamsBidiPending = true;
          else this.streams.maxStreamsUniPending = true;
          break;
        case SF_NEW_CID: {
          const c = this.localCids.bySeq(f.a);
          if (c !== undefined && !c.retired) this.localCids.pending.push(f.a);
          break;
        }
        case SF_RETIRE_CID:
          this.peerCids.pendingRetire.push(f.a);
          break;
        case SF_DATA_BLOCKED:
          this.dataBlockedSentAt = -1;
          break;
        case SF_STREAMS_BLOCKED:
          break;
        case SF_STREAM_DATA_BLOCKED: {
          const s = this.streams.send.get(f.a);
          if (s !== undefined) s.blockedSentAt = -1;
          break;
        }
        default:
          break;
      }
    }
  }

  private onCrypto(spaceId: SpaceId, offset: number, data: Uint8Array, now: number): void {
    const level: EncryptionLevel = spaceId === SPACE_INITIAL ? 'initial' : spaceId === SPACE_HANDSHAKE ? 'handshake' : 'application';
    this.runTls(() => this.tls.handleCryptoData(level, offset, data, now / 1000));
  }

  /** Runs a TLS call and applies its events; TLS errors propagate as QuicErrors (CRYPTO_ERROR). */
  private runTls(fn: () => void): void {
    fn();
    for (let e = this.tls.pollEvent(); e !== undefined; e = this.tls.pollEvent()) {
      switch (e.type) {
        case 'handshake-data': {
          const sid = LEVEL_SPACE[e.level];
          if (sid !== -1) this.spaces[sid]!.cryptoSend.write(e.data);
          break;
        }
        case 'secret': {
          const sid = LEVEL_SPACE[e.level];
          if (sid === -1) {
            // 0-RTT (RFC 9001 §4.6.1): the client writes, the server reads, in the application space.
            const keys = PacketKeys.fromSecret(this.provider, this.originalVersion, e.suite, e.secret);
            if (e.direction === 'write' && this.rememberedParams !== undefined) this.zeroRttWrite = keys;
            if (e.direction === 'read') this.zeroRttRead = keys;
            this.qlog?.event(this.lastNow, 'key_updated', { key_type: 'client_0rtt_secret', trigger: 'tls' });
            break;
          }
          const keys = PacketKeys.fromSecret(this.provider, this.transport.version, e.suite, e.secret);
          const sender = (e.direction === 'write') === this.isServer ? 'server' : 'client';
          this.qlog?.event(this.lastNow, 'key_updated', { key_type: `${sender}_${sid === SPACE_HANDSHAKE ? 'handshake' : '1rtt'}_secret`, trigger: 'tls' });
          const sp = this.spaces[sid]!;
          if (e.direction === 'read') sp.readKeys = keys;
          else sp.writeKeys = keys;
          if (sid === SPACE_HANDSHAKE) this.recovery.hasHandshakeKeys = true;
          if (sid === SPACE_APPLICATION && sp.readKeys !== undefined && sp.writeKeys !== undefined && this.keyUpdate === undefined) {
            this.keyUpdate = new KeyUpdate(sp.readKeys, sp.writeKeys);
          }
          break;
        }
        case 'peer-transport-parameters':
          this.onPeerTransportParameters(e.data);
          break;
        case 'early-data':
          if (!this.isServer) this.onEarlyDataDecision(e.accepted);
          break;
        case 'session-ticket':
          this.emit({ type: 'session-ticket', session: e.session });
          break;
        case 'handshake-complete':
          this.handshakeComplete = true;
          this.state = 'established';
          this.emit({ type: 'handshake-done', alpn: e.alpn, resumed: e.resumed, cipherSuite: e.cipherSuite });
          if (this.isServer) {
            // RFC 9001 §4.1.2: the server's handshake is confirmed on completion; HANDSHAKE_DONE tells the client.
            this.handshakeDonePending = true;
            this.onHandshakeConfirmed();
          }
          break;
        default:
          break;
      }
    }
  }

  private onPeerTransportParameters(data: Uint8Array): void {
    const tp = decodeTransportParameters(data, this.isServer ? 'client' : 'server');
    // RFC 9000 §7.3: authenticate the connection IDs used during the handshake.
    const expectScid = this.isServer ? this.peerCids.current.cid : this.peerInitialScid;
    if (tp.initialSourceConnectionId === undefined || expectScid === undefined || !equal(tp.initialSourceConnectionId, expectScid)) {
      throw new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'initial_source_connection_id does not match');
    }
    if (!this.isServer && (tp.originalDestinationConnectionId === undefined || !equal(tp.originalDestinationConnectionId, this.originalDcid))) {
      throw new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'original_destination_connection_id does not match');
    }
    this.checkVersionInformation(tp);
    if (this.isServer && this.negotiatedVersion !== undefined && this.negotiatedVersion !== this.transport.version) this.switchVersion(this.negotiatedVersion, this.lastNow);
    if (!this.isServer) {
      const r = tp.retrySourceConnectionId;
      const ok = this.retryScid === undefined ? r === undefined : r !== undefined && equal(r, this.retryScid);
      if (!ok) throw new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'retry_source_connection_id does not match');
    }
    this.peerParams = tp;
    this.mtu.limit(tp.maxUdpPayloadSize);
    this.sendMaxData = tp.initialMaxData;
    this.streams.setPeerLimits(tp);
    this.recovery.maxAckDelayUs = tp.maxAckDelay * 1000;
    // §10.1: the effective idle timeout is the smaller of the two advertised (0 = none).
    const ours = this.transport.idleTimeoutMs;
    const theirs = tp.maxIdleTimeout;
    const ms = ours === 0 ? theirs : theirs === 0 ? ours : Math.min(ours, theirs);
    this.idleTimeoutUs = ms * 1000;
    if (tp.statelessResetToken !== undefined) this.peerCids.current.resetToken = tp.statelessResetToken;
    const pa = tp.preferredAddress;
    if (pa !== undefined) {
      // §18.2: only servers send it, and not with a zero-length CID; its CID is sequence number 1 (§5.1.1).
      if (this.isServer || this.peerCids.current.cid.length === 0 || pa.connectionId.length === 0) throw new QuicError(TransportErrorCode.TRANSPORT_PARAMETER_ERROR, 'preferred_address not allowed here');
      this.peerCids.onNew(1, 0, pa.connectionId, pa.statelessResetToken, 0);
    }
  }

  /** RFC 9368 §4-5: version_information must agree with the version in use, and reveal no downgrade. */
  private checkVersionInformation(tp: TransportParameters): void {
    const vi = tp.versionInformation;
    const fail = (why: string): never => {
      throw new QuicError(TransportErrorCode.VERSION_NEGOTIATION_ERROR, why);
    };
    if (vi === undefined) {
      // A peer without version negotiation support: acceptable unless a VN packet made us switch (§4).
      if (this.negotiatedFrom !== undefined) fail('version negotiation happened but the server sent no version_information');
      return;
    }
    // §4: the client's Chosen Version is the version its first flight came in; the server's is the negotiated one,
    // which the client must have offered.
    const expected = this.isServer ? this.originalVersion : this.transport.version;
    if (vi.chosenVersion !== expected) fail(`chosen_version 0x${vi.chosenVersion.toString(16)} is not the version in use`);
    if (!this.isServer && !this.transport.versions.includes(vi.chosenVersion)) fail(`the server chose 0x${vi.chosenVersion.toString(16)}, which we did not offer`);
    if (!this.isServer && this.negotiatedFrom !== undefined) {
      if (vi.availableVersions.length === 0) fail('version negotiation happened but the server lists no available versions');
      // The VN we acted on must be what the server really supports: a version we prefer over the one we moved to,
      // present in the server's available versions, means the VN was forged (a downgrade).
      for (const v of this.transport.versions) {
        if (v === this.transport.version) break;
        if (vi.availableVersions.includes(v)) fail(`downgrade: the server supports 0x${v.toString(16)}, which the Version Negotiation packet hid`);
      }
    }
  }

  private onHandshakeConfirmed(): void {
    if (this.handshakeConfirmed) return;
    this.handshakeConfirmed = true;
    this.recovery.handshakeConfirmed = true;
    // RFC 9001 §4.9.3: 0-RTT keys are not needed once the handshake is confirmed (late 0-RTT packets are dropped;
    // the client resends their data as 1-RTT once it sees them lost).
    this.zeroRttRead = undefined;
    this.recovery.peerCompletedAddressValidation = true;
    // RFC 9001 §4.9.2: Handshake keys go once the handshake is confirmed.
    this.dropSpace(SPACE_HANDSHAKE);
    this.localCids.fill(this.cidLimit());
    if (!this.isServer) this.probePreferredAddress(this.lastNow);
  }

  /** RFC 9000 §9.6.1: once the handshake is confirmed, the client validates the server's preferred address. */
  private probePreferredAddress(now: number): void {
    const pa = this.peerParams?.preferredAddress;
    const cid = this.peerCids.active.find((c) => c.seq === 1);
    if (pa === undefined || cid === undefined || this.path === undefined || !this.transport.usePreferredAddress) return;
    const addr = choosePreferredAddress(pa, this.path.addr);
    if (addr === undefined || samePath(addr, this.path.addr)) return;
    this.startProbe('preferred', addr, cid, now);
  }

  private startProbe(kind: PathProbe['kind'], addr: PathAddress, cid: PeerCid, now: number): void {
    this.probe = { kind, addr, cid, challenge: this.provider.randomBytes(8), sendPending: true, deadline: Number.POSITIVE_INFINITY, tries: 0 };
    this.qlog?.event(now, 'path_probe', { kind, address: `${addr.address}:${addr.port}` });
  }

  private cidLimit(): number {
    return Math.min(this.peerParams?.activeConnectionIdLimit ?? 2, 8);
  }

  private dropSpace(spaceId: SpaceId): void {
    const sp = this.spaces[spaceId]!;
    if (sp.discarded) return;
    sp.discard();
    this.recovery.discardSpace(spaceId);
  }

  /** New bytes of peer data: connection flow control (§4.1). */
  private onPeerData(grew: number, frameType: number): void {
    this.recvHighest += grew;
    if (this.recvHighest > this.recvMaxData) throw new QuicError(TransportErrorCode.FLOW_CONTROL_ERROR, `connection data beyond ${this.recvMaxData}`, frameType);
  }

  /** The application consumed (or discarded) bytes: raise MAX_DATA when half the window is used (§4.2). */
  private onConsumed(n: number, now: number): void {
    if (n <= 0) return;
    this.recvConsumed += n;
    if (this.recvMaxData - this.recvConsumed > this.recvWindow / 2) return;
    const rtt = this.recovery.rtt.smoothedRtt;
    if (now - this.lastRecvWindowUpdate < 2 * rtt && this.recvWindow < this.transport.maxConnectionWindow) {
      this.recvWindow = Math.min(this.recvWindow * 2, this.transport.maxConnectionWindow);
    }
    this.lastRecvWindowUpdate = now;
    this.recvMaxData = this.recvConsumed + this.recvWindow;
    this.maxDataPending = true;
  }

  private announceNewStreams(): void {
    const ids = this.streams.newPeerStreams;
    while (ids.length > 0) {
      const id = ids.shift()!;
      this.emit({ type: 'stream-opened', streamId: id, bidirectional: isBidi(id) });
    }
  }

  private onPeerClose(code: number | bigint, isApplication: boolean, reason: string, now: number): void {
    this.closeEvent = { type: 'closed', errorCode: code, isApplication, reason, byPeer: true, idle: false };
    // §10.2.2: draining — send nothing more, wait three PTOs.
    this.state = 'draining';
    this.closeDeadline = now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs);
  }

  private onError(e: unknown, now: number): void {
    const err = e instanceof QuicError ? e : new QuicError(TransportErrorCode.INTERNAL_ERROR, (e as Error)?.message ?? String(e));
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    this.closeEvent = { type: 'closed', errorCode: err.code, isApplication: false, reason: err.reason, byPeer: false, idle: false };
    this.enterClosing({ type: 'connection_close', isApplication: false, errorCode: err.code, frameType: err.frameType, reason: err.reason.slice(0, 200) }, now);
  }

  private enterClosing(frame: Frame, now: number): void {
    this.closeFrame = frame;
    this.closeSendPending = true;
    this.state = 'closing';
    // §10.2: the closing period lasts three PTOs.
    this.closeDeadline = now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs);
  }

  private emit(e: ConnectionEvent): void {
    this.events.push(e);
  }

  private queueStream(id: number): void {
    this.scheduler.ready(id);
  }

  private requeueAll(): void {
    for (const [id, s] of this.streams.send) if (s.hasData()) this.queueStream(id);
  }

  private restartIdleTimer(now: number): void {
    if (this.idleTimeoutUs === 0) {
      this.idleDeadline = Number.POSITIVE_INFINITY;
      return;
    }
    // §10.1: at least three PTOs, so a loss burst is not taken for idleness.
    this.idleDeadline = now + Math.max(this.idleTimeoutUs, 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Timers

  /** The next deadline (µs), or Infinity. */
  timeout(): number {
    if (this.state === 'closed') return Number.POSITIVE_INFINITY;
    if (this.state === 'closing' || this.state === 'draining') return this.closeDeadline;
    let t = Math.min(
      this.idleDeadline,
      this.recovery.deadline(this.lastNow),
      this.keyUpdate?.keys.previousDiscardAt ?? Number.POSITIVE_INFINITY,
      this.path?.challengeDeadline ?? Number.POSITIVE_INFINITY,
      this.probe?.deadline ?? Number.POSITIVE_INFINITY,
      this.pacingDeadline,
    );
    for (const sp of this.spaces) if (!sp.discarded && sp.acks.ackPending) t = Math.min(t, sp.acks.ackDeadline);
    return t;
  }

  private lastNow = 0;

  handleTimeout(now: number): void {
    // The pacing deadline only wakes the sender: pollTransmit re-arms it if it still has to wait.
    if (this.pacingDeadline <= now) this.pacingDeadline = Number.POSITIVE_INFINITY;
    this.lastNow = now;
    if (this.state === 'closed') return;
    if (this.state === 'closing' || this.state === 'draining') {
      if (now >= this.closeDeadline) this.finishClose();
      return;
    }
    if (now >= this.idleDeadline) {
      // §10.1: silently closed.
      this.closeEvent = { type: 'closed', errorCode: 0, isApplication: false, reason: 'idle timeout', byPeer: false, idle: true };
      this.finishClose();
      return;
    }
    if (this.probe !== undefined && now >= this.probe.deadline) this.onProbeTimeout(now);
    if (this.path !== undefined && now >= this.path.challengeDeadline) {
      this.path.challengeDeadline = Number.POSITIVE_INFINITY;
      this.onPathValidationTimeout(now);
      if (this.state !== 'established') return;
    }
    // RFC 9001 §6.5: the previous phase's read keys go about three PTOs after the update.
    this.keyUpdate?.keys.discardPrevious(now);
    if (now >= this.recovery.deadline(now)) {
      const out = this.recovery.onTimeout(now);
      if (out.kind === 'loss') {
        for (const p of out.lost) {
          if (out.space === SPACE_APPLICATION) this.mtuOnPacket(p.size, p.mtuProbe, true, now);
          this.qlog?.event(now, 'packet_lost', { header: { packet_type: QLOG_PACKET_TYPES[out.space], packet_number: p.pn }, trigger: 'time_threshold' });
          this.onPacketLost(out.space, p.frames);
        }
      } else if (out.kind === 'pto') this.onPto(out.space);
    }
  }

  /** RFC 9002 §6.2.4: send one or two ack-eliciting probes, with data that is unacknowledged if possible. */
  private onPto(spaceId: SpaceId): void {
    const sp = this.spaces[spaceId]!;
    // Two PTOs in a row with datagrams above the base size: perhaps a PMTU black hole (RFC 8899 §4.3).
    if (spaceId === SPACE_APPLICATION && this.recovery.ptoCount >= 2 && this.mtu.onRepeatedTimeouts(this.lastNow)) {
      this.recovery.cc.onMtuUpdate(this.mtu.current);
      this.qlog?.event(this.lastNow, 'mtu_updated', { new: this.mtu.current, done: false });
    }
    if (sp.writeKeys === undefined) {
      // Client anti-deadlock with no keys for the space: probe in the best one we have.
      const fallback = this.spaces[SPACE_HANDSHAKE]!.writeKeys !== undefined ? SPACE_HANDSHAKE : SPACE_INITIAL;
      this.spaces[fallback]!.probesPending = 1;
      return;
    }
    sp.probesPending = 2;
    // Resend what is in flight in that space so the probes carry useful data.
    for (const p of this.recovery.unacked(spaceId)) {
      for (const f of p.frames) {
        if (f.kind === SF_CRYPTO) sp.cryptoSend.onLost(f.a, f.b, false);
        else if (f.kind === SF_STREAM) {
          const s = this.streams.send.get(f.a);
          if (s !== undefined) {
            s.onLost(f.b, f.c, f.fin);
            this.retransmits.add(f.a);
            this.queueStream(f.a);
          }
        }
      }
    }
  }

  private finishClose(): void {
    this.state = 'closed';
    const c = this.closeEvent;
    if (c !== undefined) this.emit(c);
    if (this.qlog !== undefined && c?.type === 'closed') {
      this.qlog.event(this.lastNow, 'connection_closed', {
        owner: c.byPeer ? 'remote' : 'local',
        [c.isApplication ? 'application_code' : 'connection_code']: c.errorCode,
        reason: c.reason,
        trigger: c.idle ? 'idle_timeout' : c.errorCode === 0 ? 'clean' : 'error',
      });
      this.qlog.close();
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // Sending

  /**
   * Builds the next datagram into `out` (at least the path's maximum datagram size); returns its length, or 0
   * when there is nothing to send now.
   */
  pollTransmit(now: number, out: Uint8Array): number {
    this.lastNow = now;
    if (this.pacingDeadline <= now) this.pacingDeadline = Number.POSITIVE_INFINITY;
    if (this.state === 'closed' || this.state === 'draining') return 0;
    if (this.state === 'closing') return this.sendClose(out);
    const ku = this.keyUpdate;
    if (ku !== undefined && this.handshakeConfirmed) {
      const sealed = ku.sealedInPhase;
      if ((this.keyUpdateRequested || sealed >= this.transport.keyUpdateIntervalPackets) && ku.canInitiate(this.handshakeConfirmed)) {
        ku.initiate(now + 3 * this.recovery.rtt.pto(this.recovery.maxAckDelayUs));
        this.keyUpdateRequested = false;
        const sp = this.spaces[SPACE_APPLICATION]!;
        sp.readKeys = ku.keys.read;
        sp.writeKeys = ku.keys.write;
        this.qlog?.event(now, 'key_updated', { key_type: `${this.isServer ? 'server' : 'client'}_1rtt_secret`, key_phase: ku.keys.generation, trigger: 'local_update' });
      } else if (sealed >= ku.keys.write.suite.confidentialityLimit) {
        // RFC 9001 §6.6: never exceed the confidentiality limit; without an update, close.
        this.onError(new QuicError(TransportErrorCode.AEAD_LIMIT_REACHED, 'confidentiality limit reached'), now);
        return this.sendClose(out);
      }
    }
    let limit = Math.min(out.length, this.mtu.current);
    this.transmitTo = undefined;
    const pathProbe = this.sendProbe(now, out);
    if (pathProbe > 0) return pathProbe;
    const probe = this.mtuProbe(now, out);
    if (probe > 0) return probe;
    if (this.isServer && this.path !== undefined && !this.path.validated) {
      // §9.3 / §8.2: 3x what arrived on a path until it is validated.
      const allowance = AMPLIFICATION_FACTOR * this.path.received - this.path.sent;
      if (allowance < limit) {
        if (allowance <= 0) return 0;
        limit = allowance;
      }
    }
    if (this.isServer && !this.addressValidated) {
      // RFC 9000 §8.1: three times what was received before the client's address is validated.
      const allowance = AMPLIFICATION_FACTOR * this.bytesReceivedUnvalidated - this.bytesSentUnvalidated;
      if (allowance < limit) {
        this.recovery.amplificationBlocked = true;
        if (allowance <= 0) return 0;
        limit = allowance;
      }
    }
    const built: Built[] = [];
    let pos = 0;
    let hasInitial = false;
    let ackElicitingInitial = false;
    for (const spaceId of [SPACE_INITIAL, SPACE_HANDSHAKE, SPACE_APPLICATION] as const) {
      const sp = this.spaces[spaceId]!;
      const zeroRtt = spaceId === SPACE_APPLICATION && !this.isServer && !this.handshakeComplete;
      if (zeroRtt ? this.zeroRttWrite === undefined || this.earlyDataAccepted === false : sp.writeKeys === undefined || sp.discarded) continue;
      const b = this.buildPacket(spaceId, out, pos, limit, now, zeroRtt);
      if (b === undefined) continue;
      built.push(b);
      pos = b.end;
      if (spaceId === SPACE_INITIAL) {
        hasInitial = true;
        if (b.ackEliciting) ackElicitingInitial = true;
      }
      if (limit - pos < 64) break;
    }
    if (built.length === 0) return 0;
    // RFC 9000 §14.1: datagrams with a client Initial, or a server's ack-eliciting Initial, are padded to 1200.
    if (hasInitial && (!this.isServer || ackElicitingInitial) && pos < MIN_INITIAL_DATAGRAM && limit >= MIN_INITIAL_DATAGRAM) {
      const last = built[built.length - 1]!;
      const pad = MIN_INITIAL_DATAGRAM - pos;
      out.fill(0, last.payloadEnd, last.payloadEnd + pad);
      last.payloadEnd += pad;
      last.end += pad;
      last.size += pad;
      last.padded = true;
      if (last.lengthOffset >= 0) patchVarint2(out, last.lengthOffset, last.end - last.lengthOffset - 2);
      pos = last.end;
    }
    for (const b of built) {
      b.keys.protect(out, b.start, b.pnOffset, b.pnLength, b.pn, b.payloadEnd);
      // RFC 9002 §2: in flight when ack-eliciting or carrying PADDING.
      const inFlight = b.ackEliciting || b.padded;
      this.recovery.onPacketSent(b.space, new SentPacket(b.pn, now, b.end - b.start, b.ackEliciting, inFlight, this.appLimited, b.frames));
      if (inFlight && b.space === SPACE_APPLICATION) this.pacer.onPacketSent(b.end - b.start);
      this.packetsSent++;
      if (b.space === SPACE_APPLICATION && !b.zeroRtt) this.keyUpdate?.onPacketSent(b.pn, b.hasAck);
      if (b.zeroRtt) this.zeroRttPacketsSent++;
      if (this.qlog !== undefined) this.qlogSent(b, now);
    }
    // Initial keys: a client discards them when it first sends a Handshake packet (RFC 9001 §4.9.1).
    if (!this.isServer && built.some((b) => b.space === SPACE_HANDSHAKE)) this.dropSpace(SPACE_INITIAL);
    if (built.some((b) => b.ackEliciting)) {
      if (!this.ackElicitingSentSinceRecv) this.restartIdleTimer(now);
      this.ackElicitingSentSinceRecv = true;
    }
    this.bytesSent += pos;
    if (!this.addressValidated) this.bytesSentUnvalidated += pos;
    if (this.path !== undefined) this.path.sent += pos;
    return pos;
  }

  private qlogSent(b: Built, now: number): void {
    const frames: Array<Record<string, unknown>> = [];
    for (const f of b.frames) {
      switch (f.kind) {
        case SF_CRYPTO:
          frames.push({ frame_type: 'crypto', offset: f.a, raw: { length: f.b } });
          break;
        case SF_STREAM:
          frames.push({ frame_type: 'stream', stream_id: f.a, offset: f.b, raw: { length: f.c }, fin: f.fin });
          break;
        case SF_ACK:
          frames.push({ frame_type: 'ack', largest_acknowledged: f.a });
          break;
        default:
          frames.push({ frame_type: SF_NAMES[f.kind] ?? 'unknown' });
      }
    }
    if (b.ackEliciting && frames.length === 0) frames.push({ frame_type: 'ping' });
    if (b.padded) frames.push({ frame_type: 'padding' });
    this.qlog!.event(now, 'packet_sent', { header: { packet_type: b.zeroRtt ? '0RTT' : QLOG_PACKET_TYPES[b.space], packet_number: b.pn }, raw: { length: b.end - b.start }, frames });
  }

  /**
   * RFC 9000 §14.4 / RFC 8899: a PMTU probe — one 1-RTT packet of PING and PADDING of the size being tried — when
   * one is due and the congestion window has room. Returns its length, or 0.
   */
  private mtuProbe(now: number, out: Uint8Array): number {
    // Not on a path still being validated: probes would eat its amplification allowance (RFC 9000 §8.2.1).
    if (!this.handshakeConfirmed || this.state !== 'established' || !this.transport.pmtuDiscovery || this.path?.validated === false) return 0;
    const size = this.mtu.probeSize(now);
    if (size === 0 || size > out.length || this.recovery.bytesInFlight + size > this.recovery.cc.window) return 0;
    const sp = this.spaces[SPACE_APPLICATION]!;
    if (sp.writeKeys === undefined) return 0;
    const pn = this.sealPadded(out, size, this.peerCids.current.cid, PING);
    this.recovery.onPacketSent(SPACE_APPLICATION, new SentPacket(pn, now, size, true, true, false, [], true));
    this.mtu.onProbeSent(size);
    this.qlog?.event(now, 'packet_sent', { header: { packet_type: '1RTT', packet_number: pn }, raw: { length: size }, frames: [{ frame_type: 'ping' }, { frame_type: 'padding' }], is_mtu_probe_packet: true });
    return size;
  }

  /**
   * A 1-RTT packet of one frame and PADDING up to `size` (a probe), sealed in place in out[0, size): returns its
   * packet number. The caller records it with recovery.
   */
  private sealPadded(out: Uint8Array, size: number, dcid: Uint8Array, frame: Frame): number {
    const sp = this.spaces[SPACE_APPLICATION]!;
    const w = this.writer.reset(out, 0, size);
    const pn = sp.nextPn++;
    const pnLength = packetNumberLength(pn, this.recovery.largestAcked(SPACE_APPLICATION));
    writeShortHeader(w, dcid, 0, this.keyUpdate?.phase ?? 0, pnLength, truncatePacketNumber(pn, pnLength), this.quicBit(pn));
    const pnOffset = w.pos - pnLength;
    writeFrame(w, frame);
    const payloadEnd = size - AEAD_TAG;
    out.fill(0, w.pos, payloadEnd); // PADDING
    sp.writeKeys!.protect(out, 0, pnOffset, pnLength, pn, payloadEnd);
    this.keyUpdate?.onPacketSent(pn, false);
    this.packetsSent++;
    this.bytesSent += size;
    return pn;
  }

  /** PMTU bookkeeping for an acknowledged or lost packet. */
  private mtuOnPacket(size: number, probe: boolean, lost: boolean, now: number): void {
    if (probe) {
      if (lost) this.mtu.onProbeLost(size);
      else if (this.mtu.onProbeAcked(size, now)) {
        this.recovery.cc.onMtuUpdate(this.mtu.current);
        this.qlog?.event(now, 'mtu_updated', { new: this.mtu.current, done: false });
      }
      return;
    }
    if (this.mtu.onPacket(size, lost, now)) {
      this.recovery.cc.onMtuUpdate(this.mtu.current);
      this.qlog?.event(now, 'mtu_updated', { new: this.mtu.current, done: false });
    }
  }

  /** Convenience: the next datagram as a fresh array, or null. */
  send(now: number): Uint8Array | null {
    const buf = new Uint8Array(Math.max(this.mtu.current, this.transport.pmtuMax));
    const n = this.pollTransmit(now, buf);
    return n === 0 ? null : buf.subarray(0, n);
  }

  private appLimited = false;
  /** RFC 9002 §7.7 pacing: the token bucket, and when it next allows a packet while data waits. */
  private readonly pacer: Pacer;
  private pacingDeadline = Number.POSITIVE_INFINITY;

  /** RFC 9287 §3: with a peer that advertised grease_quic_bit, short headers carry an unpredictable QUIC bit. */
  private quicBit(pn: number): boolean {
    if (this.peerParams?.greaseQuicBit !== true) return true;
    // A cheap hash of the packet number and our CID: unpredictable enough to exercise the peer.
    const cid = this.localCids.issued[0]!.cid;
    return ((Math.imul(pn ^ (cid[0] ?? 0), 0x9e3779b1) >>> 16) & 1) === 1;
  }

  /** Clients echo a Retry token in their Initials; servers send none. */
  private initialToken(): Uint8Array {
    return this.isServer ? EMPTY : this.retryToken;
  }

  private buildPacket(spaceId: SpaceId, out: Uint8Array, start: number, limit: number, now: number, zeroRtt = false): Built | undefined {
    // Too little room for a header, a frame and the tag (e.g. an amplification allowance of a few bytes).
    if (limit - start < MIN_PACKET_ROOM) return undefined;
    const sp = this.spaces[spaceId]!;
    const probe = sp.probesPending > 0 && !zeroRtt;
    // 0-RTT packets carry no ACK (RFC 9000 §12.4) and only stream data and datagrams here.
    const ackDue = !zeroRtt && sp.acks.ackPending && (sp.acks.ackDeadline <= now || probe);
    let cwndOpen = probe || this.recovery.bytesInFlight + this.mtu.current <= this.recovery.cc.window;
    // RFC 9002 §7.7: new data leaves no faster than the pacing rate (ACKs and probes are not held back).
    if (cwndOpen && !probe && spaceId === SPACE_APPLICATION && this.transport.pacing && this.handshakeConfirmed) {
      const cc = this.recovery.cc;
      const at = this.pacer.nextSendTime(now, this.mtu.current, cc.pacingRate(this.recovery.rtt), cc.window);
      if (at > now) {
        cwndOpen = false;
        this.pacingDeadline = at;
      }
    }
    const wantData = cwndOpen && (zeroRtt ? this.hasEarlyData() : this.hasDataToSend(spaceId));
    if (!ackDue && !wantData && !probe) return undefined;
    const keys = zeroRtt ? this.zeroRttWrite! : sp.writeKeys!;
    const w = this.writer.reset(out, start, limit);
    const dcid = this.peerCids.current.cid;
    const pn = sp.nextPn;
    const pnLength = packetNumberLength(pn, this.recovery.largestAcked(spaceId));
    let lengthOffset = -1;
    if (zeroRtt) {
      lengthOffset = writeLongHeader(w, this.originalVersion, PacketType.ZeroRtt, dcid, this.localCids.issued[0]!.cid, null, pnLength, truncatePacketNumber(pn, pnLength), 0);
    } else if (spaceId === SPACE_APPLICATION) {
      writeShortHeader(w, dcid, 0, this.keyUpdate?.phase ?? 0, pnLength, truncatePacketNumber(pn, pnLength), this.quicBit(pn));
    } else {
      const type = SPACE_PACKET_TYPE[spaceId];
      lengthOffset = writeLongHeader(w, this.transport.version, type, dcid, this.localCids.issued[0]!.cid, spaceId === SPACE_INITIAL ? this.initialToken() : null, pnLength, truncatePacketNumber(pn, pnLength), 0);
    }
    const pnOffset = w.pos - pnLength;
    const payloadStart = w.pos;
    // Room for the AEAD tag.
    w.end = limit - AEAD_TAG;
    if (w.remaining < 32) return undefined;
    const frames: SentFrames = [];
    let ackEliciting = false;
    let hasAck = false;
    // ACK first (always allowed, even when congestion limited); also, for free, in a probe or data packet when
    // anything arrived since the last ACK.
    if (!zeroRtt && (sp.acks.ackPending || (sp.acks.newSinceAck && (probe || wantData)))) {
      const delay = spaceId === SPACE_APPLICATION ? sp.acks.ackDelayField(now, this.transport.ackDelayExponent) : 0;
      const size = ackFrameSize(delay, sp.acks.ranges, null);
      if (size <= w.remaining) {
        writeAck(w, delay, sp.acks.ranges, null);
        frames.push(new SentFrame(SF_ACK, sp.acks.largest));
        sp.acks.onAckSent();
        hasAck = true;
      }
    }
    if (cwndOpen && zeroRtt) {
      if (this.writeStreamFrames(w, frames)) ackEliciting = true;
    } else if (cwndOpen) {
      if (spaceId === SPACE_APPLICATION) {
        if (this.writeControlFrames(w, frames)) ackEliciting = true;
      }
      // CRYPTO
      while (sp.cryptoSend.hasData() && w.remaining > 24) {
        const room = w.remaining - 1 - 8 - 4;
        const c = sp.cryptoSend.nextChunk(room, Number.POSITIVE_INFINITY);
        if (c === null) break;
        writeFrame(w, { type: 'crypto', offset: c.offset, data: c.data });
        frames.push(new SentFrame(SF_CRYPTO, c.offset, c.data.length));
        ackEliciting = true;
      }
      if (spaceId === SPACE_APPLICATION && this.handshakeComplete) {
        // DATAGRAMs go ahead of stream data; they are ack-eliciting but never retransmitted (RFC 9221 §5.2).
        while (this.datagramsOut.length > 0 && this.datagramsOut[0]!.length + 3 <= w.remaining) {
          writeFrame(w, { type: 'datagram', data: this.datagramsOut.shift()!, withLength: true });
          ackEliciting = true;
        }
        if (this.writeStreamFrames(w, frames)) ackEliciting = true;
      }
    }
    if (probe && !ackEliciting && w.remaining >= 1) {
      writeFrame(w, { type: 'ping' });
      ackEliciting = true;
    }
    if (probe && ackEliciting) sp.probesPending--;
    if (frames.length === 0 && !ackEliciting) return undefined;
    let payloadEnd = w.pos;
    // RFC 9001 §5.4.2: enough payload for the header protection sample (pn + payload >= 4 + 16 - tag).
    const minPayload = 4 - pnLength;
    const padded = payloadEnd - payloadStart < minPayload;
    if (padded) {
      out.fill(0, payloadEnd, payloadStart + minPayload);
      payloadEnd = payloadStart + minPayload;
    }
    const end = payloadEnd + AEAD_TAG;
    if (lengthOffset >= 0) patchVarint2(out, lengthOffset, end - lengthOffset - 2);
    sp.nextPn++;
    this.appLimited = !this.hasDataToSend(spaceId) && this.recovery.bytesInFlight < this.recovery.cc.window / 2;
    return { space: spaceId, keys, zeroRtt, start, pnOffset, pnLength, pn, payloadStart, payloadEnd, end, lengthOffset, frames, ackEliciting, hasAck, padded, size: end - start, frameBytes: payloadEnd - payloadStart };
  }

  /** Stream data a client may send as 0-RTT (new or lost). */
  private hasEarlyData(): boolean {
    for (const id of this.scheduler.readyIds()) {
      const s = this.streams.send.get(id);
      if (s !== undefined && s.hasData() && (s.hasLostData() || s.sentOffset >= s.writeOffset || this.sendDataUsed < this.sendMaxData)) return true;
    }
    return false;
  }

  /**
   * Client: the server's decision on our 0-RTT. Rejected, everything sent as 0-RTT counts as lost and is sent
   * again as 1-RTT under the limits of this connection's transport parameters (RFC 9000 §7.4.1; RFC 9001 §4.6.2).
   */
  private onEarlyDataDecision(accepted: boolean): void {
    this.earlyDataAccepted = accepted;
    this.zeroRttWrite = undefined;
    if (accepted) return;
    // The bytes stay counted against connection flow control: the server counts them when they arrive again.
    for (const p of this.recovery.resetForRetry(SPACE_APPLICATION)) this.onPacketLost(SPACE_APPLICATION, p.frames);
  }

  private hasDataToSend(spaceId: SpaceId): boolean {
    const sp = this.spaces[spaceId]!;
    if (sp.cryptoSend.hasData()) return true;
    if (spaceId !== SPACE_APPLICATION) return false;
    if (this.hasControlFrames()) return true;
    if (!this.handshakeComplete) return false;
    if (this.datagramsOut.length > 0) return true;
    if (this.retransmits.size > 0) return true;
    for (const id of this.scheduler.readyIds()) {
      const s = this.streams.send.get(id);
      if (s === undefined || !s.hasData()) continue;
      // Retransmissions and a lone FIN need no connection credit; new data does.
      if (s.hasLostData() || s.sentOffset >= s.writeOffset || this.sendDataUsed < this.sendMaxData) return true;
    }
    return false;
  }

  private newTokenSent: Uint8Array | undefined;

  private hasControlFrames(): boolean {
    return (
      this.handshakeDonePending ||
      (this.newTokenPending !== undefined && this.handshakeConfirmed) ||
      this.maxDataPending ||
      this.pendingStreamControl.size > 0 ||
      this.streams.maxStreamsBidiPending ||
      this.streams.maxStreamsUniPending ||
      this.localCids.pending.length > 0 ||
      this.peerCids.pendingRetire.length > 0 ||
      this.pathResponses.length > 0 ||
      this.pathChallengePending
    );
  }

  /** Writes `f` if it fits, recording `sf` for loss/ACK handling. */
  private put(w: BufferWriter, frames: SentFrames, f: Frame, sf: SentFrame | undefined): boolean {
    if (frameSize(f) > w.remaining) return false;
    writeFrame(w, f);
    if (sf !== undefined) frames.push(sf);
    return true;
  }

  /** Control frames of the application space; returns whether any was written. */
  private writeControlFrames(w: BufferWriter, frames: SentFrames): boolean {
    const start = frames.length;
    const pos = w.pos;
    if (this.handshakeDonePending && this.put(w, frames, { type: 'handshake_done' }, new SentFrame(SF_HANDSHAKE_DONE))) this.handshakeDonePending = false;
    if (this.newTokenPending !== undefined && this.handshakeConfirmed && this.put(w, frames, { type: 'new_token', token: this.newTokenPending }, new SentFrame(SF_NEW_TOKEN))) {
      this.newTokenSent = this.newTokenPending;
      this.newTokenPending = undefined;
    }
    while (this.pathResponses.length > 0 && this.put(w, frames, { type: 'path_response', data: this.pathResponses[0]! }, undefined)) this.pathResponses.shift();
    if (this.pathChallengePending && this.path?.challenge !== undefined && this.put(w, frames, { type: 'path_challenge', data: this.path.challenge }, undefined)) this.pathChallengePending = false;
    if (this.maxDataPending && this.put(w, frames, { type: 'max_data', maximum: this.recvMaxData }, new SentFrame(SF_MAX_DATA))) this.maxDataPending = false;
    const sm = this.streams;
    if (sm.maxStreamsBidiPending && this.put(w, frames, { type: 'max_streams', bidirectional: true, maximum: sm.localMaxBidi }, new SentFrame(SF_MAX_STREAMS, 1))) sm.maxStreamsBidiPending = false;
    if (sm.maxStreamsUniPending && this.put(w, frames, { type: 'max_streams', bidirectional: false, maximum: sm.localMaxUni }, new SentFrame(SF_MAX_STREAMS, 0))) sm.maxStreamsUniPending = false;
    for (const id of this.pendingStreamControl) {
      const s = sm.send.get(id);
      const r = sm.recv.get(id);
      if (s !== undefined && s.resetPending) {
        if (!this.put(w, frames, { type: 'reset_stream', streamId: id, errorCode: s.resetCode!, finalSize: s.finalSize }, new SentFrame(SF_RESET_STREAM, id))) break;
        s.resetPending = false;
      }
      if (r !== undefined && r.stopSendingPending) {
        if (!this.put(w, frames, { type: 'stop_sending', streamId: id, errorCode: r.stopSendingCode! }, new SentFrame(SF_STOP_SENDING, id))) break;
        r.stopSendingPending = false;
      }
      if (r !== undefined && r.maxDataPending) {
        if (!this.put(w, frames, { type: 'max_stream_data', streamId: id, maximum: r.maxData }, new SentFrame(SF_MAX_STREAM_DATA, id))) break;
        r.maxDataPending = false;
      }
      this.pendingStreamControl.delete(id);
    }
    const cids = this.localCids;
    while (cids.pending.length > 0) {
      const c = cids.bySeq(cids.pending[0]!);
      if (c !== undefined && !c.retired) {
        const f: Frame = { type: 'new_connection_id', sequenceNumber: c.seq, retirePriorTo: 0, connectionId: c.cid, statelessResetToken: c.resetToken };
        if (!this.put(w, frames, f, new SentFrame(SF_NEW_CID, c.seq))) break;
      }
      cids.pending.shift();
    }
    const retire = this.peerCids.pendingRetire;
    while (retire.length > 0 && this.put(w, frames, { type: 'retire_connection_id', sequenceNumber: retire[0]! }, new SentFrame(SF_RETIRE_CID, retire[0]!))) retire.shift();
    if (sm.blockedBidiAt >= 0 && this.put(w, frames, { type: 'streams_blocked', bidirectional: true, limit: sm.blockedBidiAt }, new SentFrame(SF_STREAMS_BLOCKED, 1))) sm.blockedBidiAt = -1;
    if (sm.blockedUniAt >= 0 && this.put(w, frames, { type: 'streams_blocked', bidirectional: false, limit: sm.blockedUniAt }, new SentFrame(SF_STREAMS_BLOCKED, 0))) sm.blockedUniAt = -1;
    return frames.length > start || w.pos > pos;
  }

  /**
   * One STREAM frame of `s` in `w` (at most `credit` new bytes): its length, NO_ROOM when the packet is full, or
   * BLOCKED when the stream has nothing it may send now (flow control).
   */
  private writeStreamChunk(w: BufferWriter, frames: SentFrames, id: number, s: SendStream, credit: number): number {
    const room = w.remaining - streamFrameOverhead(id, s.sentOffset, w.remaining, true);
    if (room <= 0) return NO_ROOM;
    const c = s.nextChunk(room, credit);
    if (c === null) return BLOCKED;
    // The last frame of a packet may omit its length; keep it for simplicity of packing.
    writeStreamFrame(w, id, c.offset, c.data, c.fin, true);
    frames.push(new SentFrame(SF_STREAM, id, c.offset, c.data.length, c.fin));
    if (c.isNew) this.sendDataUsed += c.data.length;
    if (this.scheduler.priorityOf(id).class === PriorityClass.GamingTelemetry) this.recovery.cc.onGamingPacket?.(this.lastNow);
    return c.data.length;
  }

  /**
   * STREAM frames: lost data first (any stream), then new data in the scheduler's order; whether any was written.
   * A stream that cannot send (flow control) leaves the scheduler until MAX_DATA / MAX_STREAM_DATA or a write.
   */
  private writeStreamFrames(w: BufferWriter, frames: SentFrames): boolean {
    let wrote = false;
    // Forget closed streams' scheduling state now and then (amortized: only past twice the live streams).
    if (this.scheduler.entryCount > 2 * this.streams.send.size + 64) this.scheduler.prune((id) => this.streams.send.has(id));
    for (const id of this.retransmits) {
      const s = this.streams.send.get(id);
      if (s === undefined || !s.hasLostData()) {
        this.retransmits.delete(id);
        continue;
      }
      while (s.hasLostData() && w.remaining > 16) {
        if (this.writeStreamChunk(w, frames, id, s, 0) < 0) break;
        wrote = true;
      }
      if (!s.hasLostData()) this.retransmits.delete(id);
      if (w.remaining <= 16) return wrote;
    }
    for (let guard = 0; guard < 4096 && w.remaining > 16; guard++) {
      const id = this.scheduler.next();
      if (id === undefined) break;
      const s = this.streams.send.get(id);
      if (s === undefined) {
        this.scheduler.delete(id);
        continue;
      }
      if (!s.hasData()) {
        this.scheduler.idle(id);
        continue;
      }
      const credit = this.sendMaxData - this.sendDataUsed;
      const n = this.writeStreamChunk(w, frames, id, s, credit);
      if (n === NO_ROOM) break;
      if (n === BLOCKED) {
        // Flow control blocked: tell the peer once per limit (§4.1).
        if (credit <= 0 && this.dataBlockedSentAt !== this.sendMaxData && w.remaining > 9) {
          writeFrame(w, { type: 'data_blocked', limit: this.sendMaxData });
          frames.push(new SentFrame(SF_DATA_BLOCKED));
          this.dataBlockedSentAt = this.sendMaxData;
          wrote = true;
        } else if (s.isBlocked && s.blockedSentAt !== s.maxData && w.remaining > 17) {
          writeFrame(w, { type: 'stream_data_blocked', streamId: id, limit: s.maxData });
          frames.push(new SentFrame(SF_STREAM_DATA_BLOCKED, id));
          s.blockedSentAt = s.maxData;
          wrote = true;
        }
        this.scheduler.idle(id);
        continue;
      }
      wrote = true;
      this.scheduler.sent(id, n, s.hasData());
    }
    return wrote;
  }

  /** During the closing period: CONNECTION_CLOSE in every space we have keys for (RFC 9000 §10.2.3). */
  private sendClose(out: Uint8Array): number {
    if (!this.closeSendPending || this.closeFrame === undefined) return 0;
    this.closeSendPending = false;
    let pos = 0;
    const limit = Math.min(out.length, this.mtu.current);
    for (const spaceId of [SPACE_INITIAL, SPACE_HANDSHAKE, SPACE_APPLICATION] as const) {
      const sp = this.spaces[spaceId]!;
      if (sp.writeKeys === undefined || sp.discarded) continue;
      if (spaceId === SPACE_APPLICATION && !this.handshakeComplete) continue;
      let f = this.closeFrame;
      // §10.2.3: an application close before the handshake completes is sent as APPLICATION_ERROR in Initial/Handshake.
      if (f.type === 'connection_close' && f.isApplication && spaceId !== SPACE_APPLICATION) {
        f = { type: 'connection_close', isApplication: false, errorCode: TransportErrorCode.APPLICATION_ERROR, frameType: 0, reason: '' };
      }
      const w = this.writer.reset(out, pos, limit);
      const pn = sp.nextPn++;
      const pnLength = 4;
      let lengthOffset = -1;
      if (spaceId === SPACE_APPLICATION) writeShortHeader(w, this.peerCids.current.cid, 0, this.keyUpdate?.phase ?? 0, pnLength, truncatePacketNumber(pn, pnLength));
      else lengthOffset = writeLongHeader(w, this.transport.version, SPACE_PACKET_TYPE[spaceId], this.peerCids.current.cid, this.localCids.issued[0]!.cid, spaceId === SPACE_INITIAL ? this.initialToken() : null, pnLength, truncatePacketNumber(pn, pnLength), 0);
      const pnOffset = w.pos - pnLength;
      w.end = limit - AEAD_TAG;
      if (frameSize(f) > w.remaining) break;
      writeFrame(w, f);
      const payloadEnd = w.pos;
      const end = payloadEnd + AEAD_TAG;
      if (lengthOffset >= 0) patchVarint2(out, lengthOffset, end - lengthOffset - 2);
      sp.writeKeys.protect(out, pos, pnOffset, pnLength, pn, payloadEnd);
      pos = end;
    }
    this.bytesSent += pos;
    return pos;
  }
}

/**
 * A probe of a path other than the one in use (RFC 9000 §8.2): the client validating the server's preferred
 * address (§9.6.3), or a server validating the old path after an apparent migration (§9.3.3).
 */
interface PathProbe {
  kind: 'preferred' | 'old-path';
  addr: PathAddress;
  cid: PeerCid;
  challenge: Uint8Array;
  sendPending: boolean;
  deadline: number;
  tries: number;
}

/** PATH_CHALLENGE sends before a probe is given up (each waits one PTO). */
const PROBE_TRIES = 3;

interface PathState {
  addr: PathAddress;
  validated: boolean;
  /** Bytes received from and sent to this address (anti-amplification until validated). */
  received: number;
  sent: number;
  challenge: Uint8Array | undefined;
  challengeDeadline: number;
}

function samePath(a: PathAddress, b: PathAddress): boolean {
  return a.address === b.address && a.port === b.port;
}

interface Built {
  space: SpaceId;
  keys: PacketKeys;
  zeroRtt: boolean;
  start: number;
  pnOffset: number;
  pnLength: number;
  pn: number;
  payloadStart: number;
  payloadEnd: number;
  end: number;
  lengthOffset: number;
  frames: SentFrames;
  ackEliciting: boolean;
  hasAck: boolean;
  padded: boolean;
  size: number;
  frameBytes: number;
}

const EMPTY = new Uint8Array(0);

/** RFC 9000 §7.4.1: the parameters a 0-RTT client relies on must not have gone down since the ticket. */
function earlyParametersCompatible(ticketAppData: Uint8Array, now: TransportParameters): boolean {
  let then: TransportParameters;
  try {
    then = decodeTransportParameters(ticketAppData, 'server');
  } catch {
    return false;
  }
  return (
    now.initialMaxData >= then.initialMaxData &&
    now.initialMaxStreamDataBidiLocal >= then.initialMaxStreamDataBidiLocal &&
    now.initialMaxStreamDataBidiRemote >= then.initialMaxStreamDataBidiRemote &&
    now.initialMaxStreamDataUni >= then.initialMaxStreamDataUni &&
    now.initialMaxStreamsBidi >= then.initialMaxStreamsBidi &&
    now.initialMaxStreamsUni >= then.initialMaxStreamsUni &&
    now.activeConnectionIdLimit >= then.activeConnectionIdLimit &&
    (then.maxDatagramFrameSize === undefined || (now.maxDatagramFrameSize ?? 0) >= then.maxDatagramFrameSize)
  );
}

/** qlog frame_type names of SentFrame kinds (see sent-frames.ts). */
const SF_NAMES: Record<number, string> = {
  [SF_HANDSHAKE_DONE]: 'handshake_done',
  [SF_MAX_DATA]: 'max_data',
  [SF_MAX_STREAM_DATA]: 'max_stream_data',
  [SF_MAX_STREAMS]: 'max_streams',
  [SF_RESET_STREAM]: 'reset_stream',
  [SF_STOP_SENDING]: 'stop_sending',
  [SF_NEW_CID]: 'new_connection_id',
  [SF_NEW_TOKEN]: 'new_token',
  [SF_RETIRE_CID]: 'retire_connection_id',
  [SF_DATA_BLOCKED]: 'data_blocked',
  [SF_STREAMS_BLOCKED]: 'streams_blocked',
  [SF_STREAM_DATA_BLOCKED]: 'stream_data_blocked',
};

function readUint(buf: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + buf[at + i]!;
  return v;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** RFC 9369 §5: a ticket is for the version of the connection that issued it. */
function sessionUsable(session: ClientSession | undefined, version: number): session is ClientSession {
  return session !== undefined && ticketVersion(session.transportParameters) === version;
}

/** The version of the connection a session ticket came from: the chosen version in the server's remembered
 * transport parameters (v1 when they carry no version_information, as before RFC 9368). */
function ticketVersion(serverParameters: Uint8Array): number | undefined {
  try {
    return decodeTransportParameters(serverParameters, 'server').versionInformation?.chosenVersion ?? QUIC_V1;
  } catch {
    return undefined;
  }
}

/** qlog's pacing_rate: bits per second, absent when not pacing. */
function pacingBps(bytesPerSecond: number): number | undefined {
  return Number.isFinite(bytesPerSecond) ? Math.round(bytesPerSecond * 8) : undefined;
}
