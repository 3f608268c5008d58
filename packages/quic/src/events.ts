// What a connection tells the application (aioquic's events, quinn's Event): small typed records.

import type { ClientSession } from '@gquic/tls';

export type ConnectionEvent =
  | { type: 'handshake-done'; alpn: string; resumed: boolean; cipherSuite: number }
  /** The peer opened a stream. */
  | { type: 'stream-opened'; streamId: number; bidirectional: boolean }
  /** Data (or the end, or a reset) can be read from the stream. */
  | { type: 'stream-readable'; streamId: number }
  /** The stream accepts more data (flow control or buffer space opened up). */
  | { type: 'stream-writable'; streamId: number }
  /** The peer reset its sending side. */
  | { type: 'stream-reset'; streamId: number; errorCode: number | bigint }
  /** The peer asked us to stop sending on the stream. */
  | { type: 'stream-stopped'; streamId: number; errorCode: number | bigint }
  /** DATAGRAMs (RFC 9221) are waiting in the receive queue: read them with readDatagram(). */
  | { type: 'datagrams-readable' }
  /** Client: a session ticket to resume with later (ClientConfig.tls.session), with 0-RTT if it allows. */
  | { type: 'session-ticket'; session: ClientSession }
  /** Client: the server gave a NEW_TOKEN token to present on the next connection (ClientConfig.addressToken). */
  | { type: 'new-token'; token: Uint8Array }
  /** Our side may open more streams again. */
  | { type: 'streams-available'; bidirectional: boolean }
  /**
   * The connection ended: `byPeer` when the peer closed it, `idle` on idle timeout. `isApplication` tells
   * whether `errorCode` is an application code (CONNECTION_CLOSE 0x1d) or a transport one.
   */
  | { type: 'closed'; errorCode: number | bigint; isApplication: boolean; reason: string; byPeer: boolean; idle: boolean };
