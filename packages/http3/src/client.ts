// fetch() over HTTP/3: one QUIC connection per origin, reused while it lives (and until the server's GOAWAY);
// TLS sessions remembered per origin for resumption, and 0-RTT for safe requests (GET, HEAD) when the server's
// ticket allows early data (RFC 9114 §3.3, RFC 9001 §4.6).

import { lookup } from 'node:dns/promises';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import type { ClientTlsOptions, TransportConfig } from '@gquic/quic';
import type { ClientSession } from '@gquic/tls';
import { requestLines, toHeaders } from './message.js';
import { parsePriority } from './priority.js';
import { H3Session, type H3Options } from './session.js';

/** Where sessions live between connections (a Map works; the CLI keeps one in a file). */
export interface SessionStore {
  get(origin: string): ClientSession | undefined;
  set(origin: string, session: ClientSession): void;
}

export interface Http3ClientOptions {
  /** Trust anchors (PEM or parsed); default: Node's bundled roots. */
  ca?: ClientTlsOptions['ca'];
  /** Skip certificate verification (development only). */
  insecure?: boolean;
  /** TLS cipher suite ids, preference order. */
  cipherSuites?: readonly number[];
  sessions?: SessionStore;
  /** Send safe requests as 0-RTT when a session allows (default true). */
  earlyData?: boolean;
  transport?: Partial<TransportConfig>;
  h3?: H3Options;
  qlogDir?: string;
  keyLogFile?: string;
  /** Called for each new connection (e.g. to ask for a key update). */
  onConnection?: (conn: QuicConnection, origin: string) => void;
  /** Give up on a handshake after this long (default 10 s). */
  connectTimeoutMs?: number;
}

interface Pooled {
  session: H3Session;
  conn: QuicConnection;
}

const SAFE = new Set(['GET', 'HEAD']);

export class Http3Client {
  private readonly endpoints = new Map<'udp4' | 'udp6', Promise<QuicEndpoint>>();
  private readonly pool = new Map<string, Promise<Pooled>>();
  readonly sessions: SessionStore;

  constructor(private readonly opts: Http3ClientOptions = {}) {
    this.sessions = opts.sessions ?? new Map<string, ClientSession>();
  }

  private endpoint(type: 'udp4' | 'udp6'): Promise<QuicEndpoint> {
    let ep = this.endpoints.get(type);
    if (ep === undefined) {
      ep = QuicEndpoint.bind({
        type,
        host: type === 'udp6' ? '::' : '0.0.0.0',
        ...(this.opts.transport !== undefined ? { transport: this.opts.transport } : {}),
        ...(this.opts.qlogDir !== undefined ? { qlogDir: this.opts.qlogDir } : {}),
        ...(this.opts.keyLogFile !== undefined ? { keyLogFile: this.opts.keyLogFile } : {}),
      });
      this.endpoints.set(type, ep);
    }
    return ep;
  }

  /** A live connection to `url`'s origin, new or pooled. */
  private connection(url: URL, safe: boolean): Promise<Pooled> {
    const origin = url.origin;
    const pooled = this.pool.get(origin);
    if (pooled !== undefined) {
      return pooled.then(
        (p) => (p.conn.core.isClosed || p.session.goawayReceived !== undefined ? this.connect(url, safe) : p),
        () => this.connect(url, safe),
      );
    }
    return this.connect(url, safe);
  }

  private connect(url: URL, safe: boolean): Promise<Pooled> {
    const origin = url.origin;
    const p = (async (): Promise<Pooled> => {
      const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
      const port = url.port === '' ? 443 : Number(url.port);
      const { address, family } = await lookup(host);
      const ep = await this.endpoint(family === 6 ? 'udp6' : 'udp4');
      const session = this.sessions.get(origin);
      const early = safe && (this.opts.earlyData ?? true) && session !== undefined && session.maxEarlyData > 0;
      const tls: ClientTlsOptions = {
        alpn: ['h3'],
        serverName: host,
        ...(this.opts.ca !== undefined ? { ca: this.opts.ca } : {}),
        ...(this.opts.insecure === true ? { insecure: true } : {}),
        ...(this.opts.cipherSuites !== undefined ? { cipherSuites: this.opts.cipherSuites } : {}),
        ...(session !== undefined ? { session, earlyData: early } : {}),
      };
      const timeout = this.opts.connectTimeoutMs ?? 10_000;
      // 0-RTT connects resolve before the handshake; their requests then fail with the connection if it never completes.
      const conn = await ep.connect(address, port, { tls }, early ? {} : { signal: AbortSignal.timeout(timeout) }).catch((e: unknown) => {
        if ((e as Error)?.name === 'TimeoutError') throw new Error(`no QUIC handshake with ${host}:${port} within ${timeout} ms`);
        throw e;
      });
      this.opts.onConnection?.(conn, origin);
      const h3 = new H3Session(conn, 'client', this.opts.h3);
      // Remember every ticket for this origin (the latest wins).
      if (conn.session !== undefined) this.sessions.set(origin, conn.session);
      conn.onSessionTicket = (t) => this.sessions.set(origin, t);
      void conn.closed.then(() => {
        if (this.pool.get(origin) === p) this.pool.delete(origin);
      });
      return { session: h3, conn };
    })();
    this.pool.set(origin, p);
    p.catch(() => {
      if (this.pool.get(origin) === p) this.pool.delete(origin);
    });
    return p;
  }

  /** fetch(): a standard Response whose body streams from the HTTP/3 stream. */
  async fetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.protocol !== 'https:') throw new TypeError(`HTTP/3 needs an https URL, not ${url.protocol}`);
    const safe = SAFE.has(req.method);
    const { session, conn } = await this.connection(url, safe);
    // Unsafe requests never go out as 0-RTT (RFC 9110 §9.2.1, RFC 8470): wait for the handshake.
    if (!safe && !conn.core.handshakeComplete) await conn.ready;
    const lines = requestLines(req.method, url, req.headers);
    const priority = parsePriority(req.headers.get('priority'));
    const res = await session.request(lines, req.body, { ...(req.signal !== undefined ? { signal: req.signal } : {}), priority });
    const status = res.status;
    const nullBody = req.method === 'HEAD' || status === 204 || status === 205 || status === 304;
    if (nullBody) void res.body.cancel().catch(() => undefined);
    const response = new Response(nullBody ? null : res.body, { status, headers: toHeaders(res.headers) });
    Object.defineProperty(response, 'url', { value: req.url });
    Object.defineProperty(response, 'trailers', { value: res.trailers });
    return response;
  }

  /** Closes every connection (GOAWAY first) and the sockets. */
  async close(): Promise<void> {
    const pooled = await Promise.allSettled([...this.pool.values()]);
    await Promise.all(pooled.map((p) => (p.status === 'fulfilled' ? p.value.session.shutdown(500).catch(() => undefined) : undefined)));
    for (const ep of this.endpoints.values()) await (await ep).close(100);
    this.endpoints.clear();
    this.pool.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A ClientSession as JSON (binary fields in base64), for session files. */
export function serializeSession(s: ClientSession): string {
  const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
  return JSON.stringify({ ...s, ticket: b64(s.ticket), psk: b64(s.psk), transportParameters: b64(s.transportParameters) });
}

export function deserializeSession(text: string): ClientSession {
  const o = JSON.parse(text) as Record<string, unknown>;
  const u = (k: string): Uint8Array => {
    const v = o[k];
    if (typeof v !== 'string') throw new TypeError(`session: ${k} missing`);
    return new Uint8Array(Buffer.from(v, 'base64'));
  };
  const n = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number') throw new TypeError(`session: ${k} missing`);
    return v;
  };
  const str = (k: string): string => {
    const v = o[k];
    if (typeof v !== 'string') throw new TypeError(`session: ${k} missing`);
    return v;
  };
  return {
    serverName: str('serverName'),
    alpn: str('alpn'),
    cipherSuite: n('cipherSuite'),
    ticket: u('ticket'),
    psk: u('psk'),
    ageAdd: n('ageAdd'),
    lifetime: n('lifetime'),
    receivedAt: n('receivedAt'),
    maxEarlyData: n('maxEarlyData'),
    transportParameters: u('transportParameters'),
  };
}
