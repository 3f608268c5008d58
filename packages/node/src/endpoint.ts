// QuicEndpoint: one UDP socket (node:dgram) for many QUIC connections, driving the sans-IO Endpoint. One
// timer per endpoint, re-armed to the earliest deadline; sends are coalesced per tick.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { Endpoint, type ClientConfig, type Connection, type PreferredAddressConfig, type ServerConfig, type TransportConfig } from '@gquic/quic';
import { nowUs } from './clock.js';
import { AsyncQueue, QuicConnection, type Driver } from './connection.js';
import { keyLogWriter } from './keylog.js';
import { qlogDirectory } from './qlog-file.js';

export interface QuicEndpointOptions {
  /** Address to bind (default '::' when IPv6 is wanted, else '0.0.0.0'). */
  host?: string;
  port?: number;
  /** 'udp6' binds dual-stack where the OS allows. */
  type?: 'udp4' | 'udp6';
  /** Makes this endpoint accept connections. */
  server?: ServerConfig;
  transport?: Partial<TransportConfig>;
  /** Appends TLS secrets in NSS key log format (default: the SSLKEYLOGFILE environment variable). */
  keyLogFile?: string;
  /** Writes a qlog file per connection into this directory (default: the QLOGDIR environment variable). */
  qlogDir?: string;
  /** SO_RCVBUF / SO_SNDBUF to ask for (default 4 MiB). */
  socketBufferSize?: number;
  /**
   * Server: a second local address, bound beside the first and offered to clients as preferred_address (RFC 9000
   * §9.6); clients that move there are answered from it. Needs a concrete host (not a wildcard).
   */
  preferredAddress?: { host: string; port?: number };
}

const DEFAULT_SOCKET_BUFFER = 4 << 20;

/**
 * Bursts of a large congestion window overflow the default ~200 KiB socket buffers even on loopback (measured:
 * ~0.5% loss and a collapsed window); ask for more, the kernel caps it at rmem_max/wmem_max.
 */
function enlargeBuffers(socket: dgram.Socket, size: number): void {
  try {
    socket.setRecvBufferSize(size);
    socket.setSendBufferSize(size);
  } catch {
    // not permitted here: keep the defaults
  }
}

async function bindSocket(type: 'udp4' | 'udp6', port: number, host: string, bufferSize: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket({ type, reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  enlargeBuffers(socket, bufferSize);
  return socket;
}

/** Datagrams sent per turn before yielding to the event loop (so received packets and timers get a turn). */
const SEND_BURST = 64;

export class QuicEndpoint implements Driver {
  private readonly socket: dgram.Socket;
  readonly core: Endpoint;
  private readonly conns = new Map<Connection, QuicConnection>();
  private readonly incoming = new AsyncQueue<QuicConnection>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private kicked = false;
  private closing = false;
  private readonly out = new Uint8Array(65536);
  private readonly keyLog: ((line: string) => void) | undefined;
  /**
   * Connections sending from another socket than the main one: clients that migrated to a socket of their own
   * (RFC 9000 §9.2, closed with the connection), servers' connections whose client moved to the preferred address.
   */
  private readonly socketOf = new Map<Connection, dgram.Socket>();
  private readonly preferredSocket: dgram.Socket | undefined;
  private readonly socketType: 'udp4' | 'udp6';
  private readonly socketBuffer: number;

  private constructor(socket: dgram.Socket, opts: QuicEndpointOptions, preferred: dgram.Socket | undefined) {
    this.socket = socket;
    this.preferredSocket = preferred;
    this.socketType = socket.address().family === 'IPv6' ? 'udp6' : 'udp4';
    this.socketBuffer = opts.socketBufferSize ?? DEFAULT_SOCKET_BUFFER;
    this.keyLog = keyLogWriter(opts.keyLogFile ?? process.env['SSLKEYLOGFILE']);
    const server = opts.server === undefined ? undefined : { ...opts.server, tls: { ...opts.server.tls, ...(this.keyLog !== undefined ? { keyLog: this.keyLog } : {}) } };
    const qlogDir = opts.qlogDir ?? process.env['QLOGDIR'];
    const transport = {
      ...opts.transport,
      ...(qlogDir !== undefined && qlogDir !== '' ? { qlog: qlogDirectory(qlogDir) } : {}),
      ...(preferred !== undefined ? { preferredAddress: preferredAddressOf(preferred) } : {}),
    };
    this.core = new Endpoint(server, transport);
    this.listen(socket);
    if (preferred !== undefined) this.listen(preferred);
  }

  private listen(socket: dgram.Socket): void {
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo, socket));
    socket.on('error', () => undefined);
  }

  /** Binds a UDP socket. */
  static async bind(opts: QuicEndpointOptions = {}): Promise<QuicEndpoint> {
    const type = opts.type ?? (opts.host !== undefined && isIP(opts.host) === 6 ? 'udp6' : 'udp4');
    const buffers = opts.socketBufferSize ?? DEFAULT_SOCKET_BUFFER;
    const socket = await bindSocket(type, opts.port ?? 0, opts.host ?? (type === 'udp6' ? '::' : '0.0.0.0'), buffers);
    const pa = opts.preferredAddress;
    let preferred: dgram.Socket | undefined;
    if (pa !== undefined) {
      if (opts.server === undefined) throw new RangeError('preferredAddress is for servers');
      const family = isIP(pa.host);
      if (family === 0 || pa.host === '0.0.0.0' || pa.host === '::') throw new RangeError(`preferredAddress needs a concrete IP address, not ${pa.host}`);
      try {
        preferred = await bindSocket(family === 6 ? 'udp6' : 'udp4', pa.port ?? 0, pa.host, buffers);
      } catch (e) {
        socket.close();
        throw e;
      }
    }
    return new QuicEndpoint(socket, opts, preferred);
  }

  /**
   * Moves a client connection to a new local UDP socket (a new port, as after a network change) and migrates it
   * (RFC 9000 §9.2): new connection ID, path validation, congestion control restarted.
   */
  async migrate(conn: QuicConnection): Promise<void> {
    const socket = await bindSocket(this.socketType, 0, this.socket.address().address, this.socketBuffer);
    this.listen(socket);
    try {
      conn.core.migrate(nowUs());
    } catch (e) {
      socket.close();
      throw e;
    }
    this.socketOf.get(conn.core)?.close();
    this.socketOf.set(conn.core, socket);
    this.kick();
  }

  get address(): { address: string; port: number; family: string } {
    return this.socket.address();
  }

  /** The preferred address socket's address, when one was bound. */
  get preferredAddress(): { address: string; port: number; family: string } | undefined {
    return this.preferredSocket?.address();
  }

  /** Incoming connections (servers), as they are accepted; ends when the endpoint closes. */
  get connections(): AsyncIterableIterator<QuicConnection> {
    return this.incoming;
  }

  /**
   * Connects to a server; resolves once the handshake completes — or at once when resuming with 0-RTT
   * (`tls.session` and `tls.earlyData`), so that streams opened right away go out as 0-RTT (RFC 9001 §4.6); then
   * `conn.ready` tells when the handshake is done and `conn.core.earlyDataAccepted` whether the server took them
   * (rejected 0-RTT data is resent as 1-RTT by the transport).
   */
  async connect(host: string, port: number, config: ClientConfig, opts: { signal?: AbortSignal } = {}): Promise<QuicConnection> {
    const tls = { ...config.tls, ...(this.keyLog !== undefined && config.tls.keyLog === undefined ? { keyLog: this.keyLog } : {}) };
    const core = this.core.connect({ address: host, port }, { ...config, tls }, nowUs());
    const conn = new QuicConnection(core, this, { address: host, port });
    this.conns.set(core, conn);
    this.kick();
    if (config.tls.session !== undefined && config.tls.earlyData === true && opts.signal === undefined) {
      conn.ready.catch(() => undefined); // observed by the caller through conn.ready or conn.closed
      return conn;
    }
    const signal = opts.signal;
    if (signal === undefined) {
      await conn.ready;
      return conn;
    }
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = (): void => {
        core.close(0, 'aborted', true, nowUs());
        this.kick();
        reject(signal.reason);
      };
    });
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([conn.ready, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    return conn;
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo, socket: dgram.Socket): void {
    const now = nowUs();
    const conn = this.core.recv(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { address: rinfo.address, port: rinfo.port }, now);
    // A server answers from the address its client now uses (the preferred address, RFC 9000 §9.6.2).
    if (conn !== undefined && conn.isServer && socket === this.preferredSocket) this.socketOf.set(conn, socket);
    for (let e = this.core.pollEvent(); e !== undefined; e = this.core.pollEvent()) {
      const c = new QuicConnection(e.connection, this, e.remote);
      this.conns.set(e.connection, c);
      if (!this.closing) this.incoming.push(c);
    }
    this.kick();
  }

  /** Schedules a turn: events, sends, timer. Many kicks in one tick make one turn. */
  kick(): void {
    if (this.kicked) return;
    this.kicked = true;
    queueMicrotask(() => {
      this.kicked = false;
      this.turn();
    });
  }

  private turn(): void {
    const now = nowUs();
    if (this.core.timeout() <= now) this.core.handleTimeout(now);
    this.dispatchEvents();
    let sent = 0;
    for (; sent < SEND_BURST; sent++) {
      const d = this.core.send(now, this.out);
      if (d === null) break;
      const socket = (d.connection !== undefined ? this.socketOf.get(d.connection) : undefined) ?? this.socket;
      socket.send(Buffer.from(this.out.subarray(0, d.length)), d.to.port, d.to.address);
    }
    this.dispatchEvents();
    if (sent === SEND_BURST) {
      setImmediate(() => this.kick());
      return;
    }
    this.arm();
  }

  private dispatchEvents(): void {
    for (const [core, conn] of this.conns) {
      for (let e = core.pollEvent(); e !== undefined; e = core.pollEvent()) conn.dispatch(e);
      conn.wakeAll();
      if (core.isClosed) {
        this.conns.delete(core);
        const own = this.socketOf.get(core);
        if (own !== undefined && own !== this.preferredSocket) own.close();
        this.socketOf.delete(core);
      }
    }
  }

  /** One timer for the whole endpoint, at the earliest connection deadline. */
  private arm(): void {
    const at = this.core.timeout();
    if (at === this.timerAt && this.timer !== undefined) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = at;
    if (!Number.isFinite(at)) return;
    const delayMs = Math.max(0, (at - nowUs()) / 1000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.turn();
    }, delayMs);
  }

  /** Closes every connection (application code 0) and the socket once they have ended or `graceMs` passed. */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    this.incoming.end();
    const closing = [...this.conns.values()].map((c) => c.close({ closeCode: 0, reason: 'endpoint closing' }));
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, graceMs))]);
    if (this.timer !== undefined) clearTimeout(this.timer);
    for (const s of this.socketOf.values()) if (s !== this.preferredSocket) s.close();
    this.socketOf.clear();
    this.preferredSocket?.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

function preferredAddressOf(socket: dgram.Socket): PreferredAddressConfig {
  const a = socket.address();
  return a.family === 'IPv6' ? { ipv6: { address: a.address, port: a.port } } : { ipv4: { address: a.address, port: a.port } };
}
