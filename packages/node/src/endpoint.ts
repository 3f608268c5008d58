// QuicEndpoint: one UDP socket (node:dgram) for many QUIC connections, driving the sans-IO Endpoint. One
// timer per endpoint, re-armed to the earliest deadline; sends are coalesced per tick.

import dgram from 'node:dgram';
import { isIP } from 'node:net';
import { Endpoint, type ClientConfig, type Connection, type ServerConfig, type TransportConfig } from '@gquic/quic';
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
  /** Client connections that migrated to a socket of their own (RFC 9000 §9.2). */
  private readonly migrated = new Map<Connection, dgram.Socket>();
  private readonly socketType: 'udp4' | 'udp6';
  private readonly socketBuffer: number;

  private constructor(
    socket: dgram.Socket,
    opts: QuicEndpointOptions,
  ) {
    this.socket = socket;
    this.socketType = socket.address().family === 'IPv6' ? 'udp6' : 'udp4';
    this.socketBuffer = opts.socketBufferSize ?? DEFAULT_SOCKET_BUFFER;
    this.keyLog = keyLogWriter(opts.keyLogFile ?? process.env['SSLKEYLOGFILE']);
    const server = opts.server === undefined ? undefined : { ...opts.server, tls: { ...opts.server.tls, ...(this.keyLog !== undefined ? { keyLog: this.keyLog } : {}) } };
    const qlogDir = opts.qlogDir ?? process.env['QLOGDIR'];
    const transport = { ...opts.transport, ...(qlogDir !== undefined && qlogDir !== '' ? { qlog: qlogDirectory(qlogDir) } : {}) };
    this.core = new Endpoint(server, transport);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => undefined);
  }

  /** Binds a UDP socket. */
  static async bind(opts: QuicEndpointOptions = {}): Promise<QuicEndpoint> {
    const type = opts.type ?? (opts.host !== undefined && isIP(opts.host) === 6 ? 'udp6' : 'udp4');
    const socket = dgram.createSocket({ type, reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(opts.port ?? 0, opts.host ?? (type === 'udp6' ? '::' : '0.0.0.0'), () => {
        socket.off('error', reject);
        resolve();
      });
    });
    enlargeBuffers(socket, opts.socketBufferSize ?? DEFAULT_SOCKET_BUFFER);
    return new QuicEndpoint(socket, opts);
  }

  /**
   * Moves a client connection to a new local UDP socket (a new port, as after a network change) and migrates it
   * (RFC 9000 §9.2): new connection ID, path validation, congestion control restarted.
   */
  async migrate(conn: QuicConnection): Promise<void> {
    const socket = dgram.createSocket({ type: this.socketType });
    const host = this.socket.address().address;
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    enlargeBuffers(socket, this.socketBuffer);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    socket.on('error', () => undefined);
    try {
      conn.core.migrate(nowUs());
    } catch (e) {
      socket.close();
      throw e;
    }
    this.migrated.get(conn.core)?.close();
    this.migrated.set(conn.core, socket);
    this.kick();
  }

  get address(): { address: string; port: number; family: string } {
    return this.socket.address();
  }

  /** Incoming connections (servers), as they are accepted; ends when the endpoint closes. */
  get connections(): AsyncIterableIterator<QuicConnection> {
    return this.incoming;
  }

  /** Connects to a server; resolves once the handshake completes. */
  async connect(host: string, port: number, config: ClientConfig, opts: { signal?: AbortSignal } = {}): Promise<QuicConnection> {
    const tls = { ...config.tls, ...(this.keyLog !== undefined && config.tls.keyLog === undefined ? { keyLog: this.keyLog } : {}) };
    const core = this.core.connect({ address: host, port }, { ...config, tls }, nowUs());
    const conn = new QuicConnection(core, this, { address: host, port });
    this.conns.set(core, conn);
    this.kick();
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

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const now = nowUs();
    this.core.recv(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { address: rinfo.address, port: rinfo.port }, now);
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
      const socket = (d.connection !== undefined ? this.migrated.get(d.connection) : undefined) ?? this.socket;
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
      if (core.isClosed) this.conns.delete(core);
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
    for (const s of this.migrated.values()) s.close();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
