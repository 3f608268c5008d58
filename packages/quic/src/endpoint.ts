// A QUIC endpoint, sans-IO: many connections behind one UDP socket. Routes datagrams by destination
// connection ID (RFC 9000 §5.2), accepts new connections from Initial packets (servers), and hands out the
// next datagram to send with its destination. Addresses are opaque to the core.

import { equalBytes, nodeProvider, retryIntegrityTag, type CryptoProvider } from '@gquic/crypto';
import { TOKEN_NEW, TOKEN_RETRY, TokenSealer } from './address-token.js';
import {
  BufferWriter,
  PacketHeader,
  PacketType,
  TransportErrorCode,
  VERSION_NEGOTIATION,
  greaseVersion,
  isSupportedVersion,
  parsePacketHeader,
  retryPseudoPacket,
  writeRetry,
  writeVersionNegotiation,
} from '@gquic/wire';
import { cidKey } from './cid-state.js';
import { DEFAULT_TRANSPORT, type ClientConfig, type ServerConfig, type TransportConfig } from './config.js';
import { Connection, MIN_INITIAL_DATAGRAM } from './connection.js';
import { RateLimiter, STATELESS_RESET_RATE, buildStatelessReset, statelessResetToken } from './stateless-reset.js';

export interface Address {
  address: string;
  port: number;
}

export type EndpointEvent = { type: 'connection'; connection: Connection; remote: Address };

interface Entry {
  conn: Connection;
  remote: Address;
  keys: string[];
  generation: number;
}

/** Bound on connections a server keeps (new Initials beyond it are dropped). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export class Endpoint {
  private readonly byCid = new Map<string, Entry>();
  private readonly entries: Entry[] = [];
  private readonly events: EndpointEvent[] = [];
  private readonly header = new PacketHeader();
  private next = 0;
  readonly transport: TransportConfig;

  constructor(
    readonly server: ServerConfig | undefined = undefined,
    transport: Partial<TransportConfig> = {},
    readonly maxConnections = DEFAULT_MAX_CONNECTIONS,
  ) {
    const t = { ...DEFAULT_TRANSPORT, ...server?.transport, ...transport };
    this.provider = server?.tls.provider ?? nodeProvider;
    // One static reset key for every connection of this endpoint (RFC 9000 §10.3.2).
    this.transport = { ...t, statelessResetKey: t.statelessResetKey ?? this.provider.randomBytes(32) };
    this.tokens = new TokenSealer(this.provider, server?.tokenKey ?? this.provider.randomBytes(32));
  }

  private readonly tokens: TokenSealer;

  private readonly provider: CryptoProvider;
  private readonly resetLimiter = new RateLimiter(STATELESS_RESET_RATE);
  /** Stateless packets (resets) waiting to be sent, ahead of connection traffic. */
  private readonly stateless: Array<{ data: Uint8Array; to: Address }> = [];
  /** Stateless resets sent (stats). */
  statelessResetsSent = 0;

  get connectionCount(): number {
    return this.entries.length;
  }

  pollEvent(): EndpointEvent | undefined {
    return this.events.shift();
  }

  /** Starts a client connection to `remote`. */
  connect(remote: Address, config: ClientConfig, now: number): Connection {
    const conn = Connection.client({ ...config, transport: { ...this.transport, ...config.transport } }, now);
    this.add(conn, remote, [cidKey(conn.localCids.issued[0]!.cid)]);
    return conn;
  }

  private add(conn: Connection, remote: Address, keys: string[]): Entry {
    const e: Entry = { conn, remote, keys, generation: conn.localCids.generation };
    for (const k of keys) this.byCid.set(k, e);
    this.entries.push(e);
    return e;
  }

  /** Keeps the routing table in step with the CIDs each connection has issued or retired. */
  private syncCids(e: Entry): void {
    if (e.generation === e.conn.localCids.generation) return;
    e.generation = e.conn.localCids.generation;
    for (const c of e.conn.localCids.issued) {
      const k = cidKey(c.cid);
      if (c.retired) {
        if (this.byCid.get(k) === e) this.byCid.delete(k);
      } else if (!this.byCid.has(k)) {
        this.byCid.set(k, e);
        e.keys.push(k);
      }
    }
  }

  /**
   * A datagram from `from`. The buffer may be modified in place. Returns the connection it went to (an adapter
   * with several sockets answers from the one the peer uses), or undefined.
   */
  recv(datagram: Uint8Array, from: Address, now: number): Connection | undefined {
    const h = this.header;
    try {
      parsePacketHeader(datagram, 0, this.transport.cidLength, h);
    } catch {
      return;
    }
    const key = cidKey(h.dcid);
    let e = this.byCid.get(key);
    if (e === undefined) {
      if (!h.isLong) {
        this.onUnknownShortHeader(datagram, h.dcid, from, now);
        return;
      }
      if (this.server === undefined) return;
      if (!this.transport.versions.includes(h.version) || !isSupportedVersion(h.version)) {
        this.sendVersionNegotiation(datagram, h, from, now);
        return;
      }
      if (h.type !== PacketType.Initial) return;
      // RFC 9000 §14.1: a server drops Initial datagrams smaller than 1200 bytes; §7.2: DCIDs of 8+ bytes.
      if (datagram.length < MIN_INITIAL_DATAGRAM || h.dcidLength < 8) return;
      if (this.entries.length >= this.maxConnections) return;
      const provider = this.provider;
      // Address validation (RFC 9000 §8.1): a Retry token, a NEW_TOKEN token, or (in Retry mode) a Retry.
      const token = h.token;
      let odcid: Uint8Array = h.dcid.slice();
      let retryScid: Uint8Array | undefined;
      let validated = false;
      if (token.length > 0 && TokenSealer.kindOf(token) === TOKEN_RETRY) {
        const t = this.tokens.open(token, TOKEN_RETRY, from, now, h.version);
        if (t === undefined || !equalBytes(t.retryScid, h.dcid)) {
          // §8.1.3: an invalid Retry token closes the connection attempt with INVALID_TOKEN.
          this.refuse(datagram, h, from, now, TransportErrorCode.INVALID_TOKEN, 'invalid or expired Retry token');
          return;
        }
        odcid = t.originalDcid;
        retryScid = t.retryScid;
        validated = true;
      } else if (token.length > 0 && this.tokens.open(token, TOKEN_NEW, from, now, h.version) !== undefined) {
        validated = true; // a NEW_TOKEN from an earlier connection: no Retry needed
      }
      if (!validated && this.server.retry === true) {
        this.sendRetry(h, from, now);
        return;
      }
      const scid = provider.randomBytes(this.transport.cidLength);
      const newToken = this.server.newTokens !== false ? this.tokens.seal({ kind: TOKEN_NEW, issuedAt: now, originalDcid: new Uint8Array(0), retryScid: new Uint8Array(0) }, from, h.version) : undefined;
      const ids = {
        scid,
        dcid: odcid,
        peerScid: h.scid.slice(),
        addressValidated: validated,
        ...(retryScid !== undefined ? { retryScid } : {}),
        ...(newToken !== undefined ? { newToken } : {}),
      };
      const conn = new Connection(true, { ...this.transport, version: h.version }, this.server, ids, now);
      conn.handleDatagram(datagram, now, from);
      // State is kept only for an Initial that authenticated (RFC 9001 §5.2 keys from its DCID): forged or
      // corrupted Initials cost one decryption attempt, not a connection.
      if (conn.stats().packetsReceived === 0) return;
      // Until the client switches to our CID, its Initials still carry its own choice of DCID.
      e = this.add(conn, from, [key, cidKey(scid)]);
      this.events.push({ type: 'connection', connection: conn, remote: from });
      this.syncCids(e);
      return conn;
    }
    e.conn.handleDatagram(datagram, now, from);
    // The connection decides where the peer is (it may have migrated, RFC 9000 §9).
    const to = e.conn.peerAddress;
    if (to !== undefined) e.remote = to;
    this.syncCids(e);
    return e.conn;
  }

  /**
   * A short-header packet for no connection of ours: either a stateless reset for one of our connections (its
   * DCID field is random, so it is matched by token, §10.3.1), or a packet for a connection we lost — answered
   * with a stateless reset.
   */
  private onUnknownShortHeader(datagram: Uint8Array, dcid: Uint8Array, from: Address, now: number): void {
    for (const e of this.entries) if (e.conn.checkStatelessReset(datagram, now)) return;
    // Servers answer with resets; a client-only endpoint just drops (what reaches it unroutable is mostly
    // resets for connections it already closed, and answering those only adds traffic).
    if (this.server === undefined || !this.resetLimiter.take(now)) return;
    const reset = buildStatelessReset(this.provider, statelessResetToken(this.provider, this.transport.statelessResetKey!, dcid), datagram.length);
    if (reset === undefined) return;
    this.stateless.push({ data: reset, to: from });
    this.statelessResetsSent++;
  }

  /** RFC 9000 §17.2.5: answer a client's first Initial with a Retry carrying a sealed token. */
  private sendRetry(h: PacketHeader, from: Address, now: number): void {
    if (!this.resetLimiter.take(now)) return;
    const retryScid = this.provider.randomBytes(this.transport.cidLength);
    const token = this.tokens.seal({ kind: TOKEN_RETRY, issuedAt: now, originalDcid: h.dcid.slice(), retryScid }, from, h.version);
    const out = new Uint8Array(7 + h.scidLength + retryScid.length + token.length + 16);
    const w = new BufferWriter(out);
    writeRetry(w, h.version, h.scid, retryScid, token, null, this.provider.randomBytes(1)[0]!);
    const tag = retryIntegrityTag(this.provider, h.version, retryPseudoPacket(h.dcid, out.subarray(0, out.length - 16)));
    out.set(tag, out.length - 16);
    this.stateless.push({ data: out, to: from });
    this.retriesSent++;
  }

  /**
   * Refuses a connection attempt with a transport error: a connection is made just to send the CONNECTION_CLOSE
   * in an Initial packet the client can read, then dropped once it has sent it.
   */
  private refuse(datagram: Uint8Array, h: PacketHeader, from: Address, now: number, code: number, reason: string): void {
    if (!this.resetLimiter.take(now)) return;
    const conn = new Connection(true, { ...this.transport, version: h.version }, this.server!, { scid: this.provider.randomBytes(this.transport.cidLength), dcid: h.dcid.slice(), peerScid: h.scid.slice() }, now);
    conn.handleDatagram(datagram, now);
    if (conn.stats().packetsReceived === 0) return; // not even a valid Initial
    conn.closeWithError(code, reason, now);
    const buf = new Uint8Array(this.transport.maxDatagramSize);
    const n = conn.pollTransmit(now, buf);
    if (n > 0) this.stateless.push({ data: buf.slice(0, n), to: from });
  }

  /** Retry packets sent (stats). */
  retriesSent = 0;

  /**
   * RFC 9000 §6.1: a long-header packet of a version we do not speak, in a datagram large enough to be a client's
   * first Initial, gets a Version Negotiation packet listing ours (and a reserved version, to grease §6.3).
   * Never in answer to a Version Negotiation packet; rate-limited like resets.
   */
  private sendVersionNegotiation(datagram: Uint8Array, h: PacketHeader, from: Address, now: number): void {
    if (h.version === VERSION_NEGOTIATION || datagram.length < MIN_INITIAL_DATAGRAM || !this.resetLimiter.take(now)) return;
    const versions = [...this.transport.versions, greaseVersion(this.provider.randomBytes(4).reduce((a, b) => (a << 8) | b, 0))];
    const out = new Uint8Array(7 + h.dcidLength + h.scidLength + 4 * versions.length);
    writeVersionNegotiation(new BufferWriter(out), h.scid, h.dcid, versions, this.provider.randomBytes(1)[0]!);
    this.stateless.push({ data: out, to: from });
  }

  /** The next datagram to send, written into `out`: its length and destination, or null. */
  send(now: number, out: Uint8Array): { length: number; to: Address; connection?: Connection } | null {
    const s = this.stateless.shift();
    if (s !== undefined) {
      out.set(s.data);
      return { length: s.data.length, to: s.to };
    }
    const n = this.entries.length;
    for (let i = 0; i < n; i++) {
      const e = this.entries[(this.next + i) % n]!;
      let len: number;
      try {
        len = e.conn.pollTransmit(now, out);
      } catch (err) {
        // A bug of ours must not take the endpoint down: that connection ends with INTERNAL_ERROR.
        e.conn.closeWithError(TransportErrorCode.INTERNAL_ERROR, `internal error: ${(err as Error)?.message ?? String(err)}`.slice(0, 200), now);
        len = 0;
      }
      this.syncCids(e);
      if (len > 0) {
        this.next = (this.next + i + 1) % n;
        return { length: len, to: e.conn.transmitTo ?? e.remote, connection: e.conn };
      }
    }
    return null;
  }

  /** The earliest deadline of any connection (µs), or Infinity. */
  timeout(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const e of this.entries) t = Math.min(t, e.conn.timeout());
    return t;
  }

  /** Runs due timers and forgets closed connections whose events were read. */
  handleTimeout(now: number): void {
    for (const e of this.entries) if (e.conn.timeout() <= now) e.conn.handleTimeout(now);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (!e.conn.isClosed) continue;
      this.entries.splice(i, 1);
      for (const k of e.keys) if (this.byCid.get(k) === e) this.byCid.delete(k);
    }
  }

  connections(): Connection[] {
    return this.entries.map((e) => e.conn);
  }
}
