// TLS configuration for gquic's QUIC handshakes (and the test-only TLS-over-TCP record layer).

import type { CipherSuite, CryptoProvider, NamedGroupName, PrivateKey } from '@gquic/crypto';
import type { ClientSession, AntiReplay, TicketKeyRing } from './session-ticket.js';
import type { Certificate } from './x509.js';

export type EncryptionLevel = 'initial' | 'early' | 'handshake' | 'application';

export type TlsEvent =
  /** Handshake bytes to send in CRYPTO frames (or TLS records) at `level`, in order. */
  | { type: 'handshake-data'; level: EncryptionLevel; data: Uint8Array }
  /** A traffic secret became available; packet protection at `level` in `direction` can start. */
  | { type: 'secret'; direction: 'read' | 'write'; level: EncryptionLevel; suite: CipherSuite; secret: Uint8Array }
  /** The peer's quic_transport_parameters (RFC 9001 §8.2), still encoded. */
  | { type: 'peer-transport-parameters'; data: Uint8Array }
  /** The client learns whether its 0-RTT was accepted; the server announces its decision. */
  | { type: 'early-data'; accepted: boolean }
  | { type: 'handshake-complete'; alpn: string; cipherSuite: number; resumed: boolean; peerCertificates: Uint8Array[] }
  /** Client: a ticket to resume with later. */
  | { type: 'session-ticket'; session: ClientSession };

export interface TlsCommonConfig {
  provider?: CryptoProvider;
  /** Application protocols, preference order. ALPN is required: no overlap is the no_application_protocol alert. */
  alpn: readonly string[];
  /** Our encoded transport parameters (RFC 9001 §8.2). Omit only for the TLS-over-TCP test record layer. */
  transportParameters?: Uint8Array;
  /** Cipher suite ids, preference order (default AES-128-GCM, ChaCha20-Poly1305, AES-256-GCM). */
  cipherSuites?: readonly number[];
  /** Key exchange groups we support, preference order (default x25519, secp256r1, secp384r1). */
  groups?: readonly NamedGroupName[];
  /** Signature schemes we accept from the peer, preference order. */
  signatureSchemes?: readonly number[];
  /** Bound on buffered CRYPTO data per encryption level. */
  maxCryptoBuffer?: number;
  /** SSLKEYLOGFILE lines (NSS key log format), e.g. to append to the file named by SSLKEYLOGFILE. */
  keyLog?: (line: string) => void;
  /** Our certificate chain (DER, leaf first) and key: required for a server, optional client certificate. */
  certificateChain?: readonly Uint8Array[];
  privateKey?: PrivateKey;
}

export interface TlsClientConfig extends TlsCommonConfig {
  /** Server name for SNI and certificate checks: a DNS name or an IP literal. */
  serverName: string;
  /** Trust anchors (parsed, or PEM text); default: Node's bundled roots. */
  ca?: readonly Certificate[] | string;
  /** Skip certificate verification (development only). */
  insecure?: boolean;
  /** Groups to send key shares for in the first ClientHello (default: the first of `groups`). */
  keyShareGroups?: readonly NamedGroupName[];
  /** A session to resume (and with `earlyData`, to send 0-RTT with). */
  session?: ClientSession;
  earlyData?: boolean;
}

export interface EarlyDataRequest {
  alpn: string;
  /** The app data sealed in the ticket when it was issued (e.g. the server's transport parameters then). */
  ticketAppData: Uint8Array;
}

export interface TlsServerConfig extends TlsCommonConfig {
  certificateChain: readonly Uint8Array[];
  privateKey: PrivateKey;
  /** Client certificates (mutual TLS). */
  clientAuth?: 'none' | 'request' | 'require';
  clientCa?: readonly Certificate[] | string;
  /** Session tickets: sealed with this key ring; omit to issue none. */
  ticketKeys?: TicketKeyRing;
  /** Tickets sent after the handshake (default 1). */
  ticketCount?: number;
  ticketLifetimeSeconds?: number;
  /** Application data sealed into each ticket (see EarlyDataRequest). */
  ticketAppData?: Uint8Array;
  /** 0-RTT: needs `antiReplay`; `acceptEarlyData` decides per connection (default: accept). */
  earlyData?: boolean;
  antiReplay?: AntiReplay;
  acceptEarlyData?: (req: EarlyDataRequest) => boolean;
  /**
   * QUIC: picks the transport parameters to send once the client's are known (compatible version negotiation,
   * RFC 9368 §2.3, puts the negotiated version in them). Called before EncryptedExtensions; default: the fixed
   * `transportParameters`.
   */
  transportParametersFor?: (clientParameters: Uint8Array) => Uint8Array;
  /**
   * Decides whether a valid ticket may resume this connection (a full handshake follows when not), from the
   * app data sealed in it and the client's QUIC transport parameters.
   */
  acceptTicket?: (ticketAppData: Uint8Array, clientParameters: Uint8Array | undefined) => boolean;
}
