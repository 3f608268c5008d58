// Connection configuration and the transport parameters it turns into.

import type { CongestionController } from '@gquic/recovery';
import { Bbr, Cubic, GamingController, NewReno, type GamingCongestionConfig } from '@gquic/recovery';
import type { SchedulerOptions } from '@gquic/scheduler';
import type { TlsClientConfig, TlsServerConfig } from '@gquic/tls';
import type { QlogFactory } from './qlog.js';
import { QUIC_V1, QUIC_V2, defaultTransportParameters, type PreferredAddress, type TransportParameters } from '@gquic/wire';
import type { PreferredAddressConfig } from './preferred-address.js';

export interface TransportConfig {
  /** The version a client starts with (a server answers in the client's version when it supports it). */
  version: number;
  /**
   * Versions we support, preference order (RFC 9368 version_information). A server answers other versions with
   * Version Negotiation; a client moves to the first of these the server offers.
   */
  versions: readonly number[];
  /** Length of the connection IDs we issue (RFC 9000 §5.1; the endpoint routes on them). */
  cidLength: number;
  /** Idle timeout we advertise, ms (0: none). */
  idleTimeoutMs: number;
  /** The largest UDP payload we accept (max_udp_payload_size). */
  maxUdpPayloadSize: number;
  /** The datagram size we start with (PMTU discovery raises it). */
  maxDatagramSize: number;
  /** Connection receive window; grows up to maxConnectionWindow when the application reads fast. */
  connectionWindow: number;
  maxConnectionWindow: number;
  /** Per-stream receive window; grows up to maxStreamWindow. */
  streamWindow: number;
  maxStreamWindow: number;
  maxStreamsBidi: number;
  maxStreamsUni: number;
  /** Unacknowledged bytes buffered per stream from the application. */
  sendBufferLimit: number;
  ackDelayExponent: number;
  maxAckDelayMs: number;
  activeConnectionIdLimit: number;
  /** The congestion controller per connection (default NewReno; see `congestionControl()`). */
  congestionController: (maxDatagramSize: number) => CongestionController;
  /** Spread packets over the round trip at the controller's pacing rate (RFC 9002 §7.7; default on). */
  pacing: boolean;
  /** The stream scheduler (mode, minimum shares of the container classes). */
  scheduler: SchedulerOptions;
  /** qlog per connection (opt-in; the Node adapter writes files from a directory option). */
  qlog: QlogFactory | undefined;
  /** Initiate a 1-RTT key update after this many packets with one key (RFC 9001 §6.6; below every suite's limit). */
  keyUpdateIntervalPackets: number;
  /** Override the AEAD integrity limit (RFC 9001 §6.6), for tests; default: the cipher suite's. */
  integrityLimit: number | undefined;
  /** RFC 9221: the largest DATAGRAM frame we accept (max_datagram_frame_size); 0 disables DATAGRAM. */
  maxDatagramFrameSize: number;
  /** Datagrams waiting to be sent / to be read; beyond, the oldest is dropped. */
  datagramSendQueue: number;
  datagramRecvQueue: number;
  /**
   * RFC 9000 §10.3.2: the static key stateless reset tokens are derived from. Keep it across restarts (and
   * share it across a cluster) so resets still work after state is lost; default: random per endpoint.
   */
  statelessResetKey: Uint8Array | undefined;
  /** RFC 9287: advertise grease_quic_bit (accept packets with the QUIC bit cleared) and clear it at random when the peer does. */
  greaseQuicBit: boolean;
  /** RFC 9000 §18.1: send a reserved transport parameter (31 * N + 27) so peers exercise ignoring it. */
  greaseTransportParameters: boolean;
  /** Ask clients not to migrate (disable_active_migration, RFC 9000 §18.2); NAT rebinding is still followed. */
  disableActiveMigration: boolean;
  /** Server: addresses clients should move to after the handshake (preferred_address, RFC 9000 §9.6). */
  preferredAddress?: PreferredAddressConfig;
  /** Client: validate and move to the server's preferred address when it gives one (default true). */
  usePreferredAddress: boolean;
  /** DPLPMTUD (RFC 8899): probe for datagrams larger than 1200 bytes, up to pmtuMax (and the peer's limit). */
  pmtuDiscovery: boolean;
  /** The largest datagram we probe for: 1452 fits IPv4 over a 1500-byte Ethernet MTU with common tunnels. */
  pmtuMax: number;
}

export const DEFAULT_TRANSPORT: TransportConfig = {
  version: QUIC_V1,
  versions: [QUIC_V1, QUIC_V2],
  cidLength: 8,
  idleTimeoutMs: 30_000,
  maxUdpPayloadSize: 1472,
  maxDatagramSize: 1200,
  connectionWindow: 1 << 20,
  maxConnectionWindow: 24 << 20,
  streamWindow: 256 << 10,
  maxStreamWindow: 16 << 20,
  maxStreamsBidi: 100,
  maxStreamsUni: 100,
  sendBufferLimit: 1 << 20,
  ackDelayExponent: 3,
  maxAckDelayMs: 25,
  activeConnectionIdLimit: 4,
  congestionController: (mds) => new NewReno(mds),
  pacing: true,
  scheduler: {},
  qlog: undefined,
  keyUpdateIntervalPackets: 1 << 22,
  integrityLimit: undefined,
  maxDatagramFrameSize: 65535,
  datagramSendQueue: 256,
  datagramRecvQueue: 256,
  statelessResetKey: undefined,
  greaseQuicBit: true,
  greaseTransportParameters: true,
  pmtuDiscovery: true,
  pmtuMax: 1452,
  disableActiveMigration: false,
  usePreferredAddress: true,
};

export type ClientTlsOptions = Omit<TlsClientConfig, 'transportParameters'>;
export type ServerTlsOptions = Omit<TlsServerConfig, 'transportParameters'>;

export interface ClientConfig {
  tls: ClientTlsOptions;
  transport?: Partial<TransportConfig>;
  /** A NEW_TOKEN token from an earlier connection to this server (RFC 9000 §8.1.3), sent in our Initials. */
  addressToken?: Uint8Array;
}

export interface ServerConfig {
  tls: ServerTlsOptions;
  transport?: Partial<TransportConfig>;
  /** Validate every new client's address with a Retry first (RFC 9000 §8.1.2), unless it brings a valid NEW_TOKEN. */
  retry?: boolean;
  /** Key for Retry and NEW_TOKEN tokens (32 bytes; share it across restarts and a cluster); default random. */
  tokenKey?: Uint8Array;
  /** Send a NEW_TOKEN after the handshake so the client can skip Retry next time (default true). */
  newTokens?: boolean;
}

/** Our transport parameters (RFC 9000 §18.2) from the configuration. */
export function localTransportParameters(
  t: TransportConfig,
  ids: { initialScid: Uint8Array; originalDcid?: Uint8Array; retryScid?: Uint8Array; resetToken?: Uint8Array; grease?: Uint8Array; preferredAddress?: PreferredAddress },
): TransportParameters {
  const tp = defaultTransportParameters();
  tp.maxIdleTimeout = t.idleTimeoutMs;
  tp.maxUdpPayloadSize = t.maxUdpPayloadSize;
  tp.initialMaxData = t.connectionWindow;
  tp.initialMaxStreamDataBidiLocal = t.streamWindow;
  tp.initialMaxStreamDataBidiRemote = t.streamWindow;
  tp.initialMaxStreamDataUni = t.streamWindow;
  tp.initialMaxStreamsBidi = t.maxStreamsBidi;
  tp.initialMaxStreamsUni = t.maxStreamsUni;
  tp.ackDelayExponent = t.ackDelayExponent;
  tp.maxAckDelay = t.maxAckDelayMs;
  tp.activeConnectionIdLimit = t.activeConnectionIdLimit;
  tp.initialSourceConnectionId = ids.initialScid;
  if (t.maxDatagramFrameSize > 0) tp.maxDatagramFrameSize = t.maxDatagramFrameSize;
  tp.greaseQuicBit = t.greaseQuicBit;
  tp.disableActiveMigration = t.disableActiveMigration;
  // RFC 9368 §5: the version in use and the versions we support.
  tp.versionInformation = { chosenVersion: t.version, availableVersions: [...t.versions] };
  if (t.greaseTransportParameters && ids.grease !== undefined) {
    // A reserved id (31 * N + 27) with a few arbitrary bytes.
    const n = ((ids.grease[0]! << 8) | ids.grease[1]!) % 1000;
    tp.extra = [{ id: 31 * n + 27, value: ids.grease.subarray(2, 2 + (ids.grease[2]! % 8)) }];
  }
  if (ids.originalDcid !== undefined) tp.originalDestinationConnectionId = ids.originalDcid;
  if (ids.resetToken !== undefined) tp.statelessResetToken = ids.resetToken;
  if (ids.retryScid !== undefined) tp.retrySourceConnectionId = ids.retryScid;
  if (ids.preferredAddress !== undefined) tp.preferredAddress = ids.preferredAddress;
  return tp;
}

export type CongestionControlName = 'newreno' | 'cubic' | 'bbr' | 'gaming';

/**
 * A congestion controller factory by name: NewReno (RFC 9002), CUBIC with HyStart++ (RFC 9438, RFC 9406), BBR
 * (after BBRv3), or the gaming-aware controller over CUBIC (`gaming` options).
 */
export function congestionControl(name: CongestionControlName, gaming: Partial<GamingCongestionConfig> = {}): (maxDatagramSize: number) => CongestionController {
  switch (name) {
    case 'newreno':
      return (mds) => new NewReno(mds);
    case 'cubic':
      return (mds) => new Cubic(mds);
    case 'bbr':
      return (mds) => new Bbr(mds);
    case 'gaming':
      return (mds) => new GamingController(new Cubic(mds), gaming, mds);
  }
}
