// A fetch-style HTTP/3 server: a handler takes a standard Request and returns a Response, bodies streaming both
// ways. Beneath it each connection is an H3Session (the lower-level API, for Extended CONNECT and the like).

import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import type { ServerConfig, ServerTlsOptions, TransportConfig } from '@gquic/quic';
import { H3ErrorCode } from './errors.js';
import { requestLines, responseLines, toHeaders } from './message.js';
import { H3Session, type H3Options, type ServerExchange } from './session.js';

export interface RequestContext {
  /** The client's address. */
  remote: { address: string; port: number };
  connection: QuicConnection;
  session: H3Session;
  exchange: ServerExchange;
}

export type Handler = (request: Request, ctx: RequestContext) => Response | Promise<Response>;

export interface Http3ServerOptions {
  host?: string;
  port?: number;
  /** Certificate chain and key, and any other TLS options (ticketKeys, antiReplay, earlyData...). ALPN is h3. */
  tls: Omit<ServerTlsOptions, 'alpn'> & { alpn?: readonly string[] };
  handler: Handler;
  /** Lower-level: every session as it starts (the `handler` still gets its requests unless `exchanges` is set). */
  onSession?: (session: H3Session) => void;
  /** Lower-level: takes each exchange instead of the fetch handler (return true when handled). */
  exchanges?: (exchange: ServerExchange, session: H3Session) => boolean;
  retry?: boolean;
  transport?: Partial<TransportConfig>;
  h3?: H3Options;
  qlogDir?: string;
  keyLogFile?: string;
  /** Errors thrown by the handler (the client gets a 500). */
  onError?: (e: unknown) => void;
}

const NO_BODY_STATUS = new Set([204, 205, 304]);
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export class Http3Server {
  readonly sessions = new Set<H3Session>();

  private constructor(
    readonly endpoint: QuicEndpoint,
    private readonly opts: Http3ServerOptions,
  ) {
    void this.accept();
  }

  static async listen(opts: Http3ServerOptions): Promise<Http3Server> {
    const server: ServerConfig = { tls: { ...opts.tls, alpn: opts.tls.alpn ?? ['h3'] }, ...(opts.retry !== undefined ? { retry: opts.retry } : {}) };
    const endpoint = await QuicEndpoint.bind({
      host: opts.host ?? '::',
      port: opts.port ?? 443,
      server,
      ...(opts.transport !== undefined ? { transport: opts.transport } : {}),
      ...(opts.qlogDir !== undefined ? { qlogDir: opts.qlogDir } : {}),
      ...(opts.keyLogFile !== undefined ? { keyLogFile: opts.keyLogFile } : {}),
    });
    return new Http3Server(endpoint, opts);
  }

  get address(): { address: string; port: number; family: string } {
    return this.endpoint.address;
  }

  private async accept(): Promise<void> {
    for await (const conn of this.endpoint.connections) {
      const session = new H3Session(conn, 'server', this.opts.h3);
      this.sessions.add(session);
      void session.closed.then(() => this.sessions.delete(session));
      this.opts.onSession?.(session);
      void this.serve(session, conn);
    }
  }

  private async serve(session: H3Session, conn: QuicConnection): Promise<void> {
    for await (const ex of session.requests) {
      if (this.opts.exchanges?.(ex, session) === true) continue;
      void this.handle(ex, session, conn);
    }
  }

  private async handle(ex: ServerExchange, session: H3Session, conn: QuicConnection): Promise<void> {
    const h = ex.head;
    let response: Response;
    try {
      if (h.method === 'CONNECT') {
        // Fetch cannot express CONNECT: without a lower-level `exchanges` hook, refuse it.
        ex.abort(H3ErrorCode.REQUEST_REJECTED);
        return;
      }
      // RFC 8470 §5.1: 0-RTT data can be replayed. A request that is not safe waits for the handshake to
      // complete (a replay never completes it), so only GET, HEAD and OPTIONS run on early data.
      if (!SAFE_METHODS.has(h.method) && !conn.core.handshakeComplete) await conn.ready;
      const url = `${h.scheme}://${h.authority ?? h.headers.find(([n]) => n === 'host')?.[1] ?? 'localhost'}${h.path}`;
      const hasBody = h.method !== 'GET' && h.method !== 'HEAD';
      if (!hasBody) void ex.body.cancel().catch(() => undefined);
      const init: RequestInit & { duplex?: 'half' } = { method: h.method, headers: toHeaders(h.headers), ...(hasBody ? { body: ex.body, duplex: 'half' } : {}) };
      const req = new Request(url, init);
      response = await this.opts.handler(req, { remote: conn.remote, connection: conn, session, exchange: ex });
    } catch (e) {
      this.opts.onError?.(e);
      response = new Response('internal server error\n', { status: 500, headers: { 'content-type': 'text/plain' } });
    }
    const body = h.method === 'HEAD' || NO_BODY_STATUS.has(response.status) ? null : response.body;
    if (body === null) void response.body?.cancel().catch(() => undefined);
    await ex.respond(response.status, responseLines(response.status, response.headers).slice(1), body).catch((e) => this.opts.onError?.(e));
  }

  /** Graceful close: GOAWAY on every connection, wait for requests in flight (at most `graceMs`), then close. */
  async close(graceMs = 2000): Promise<void> {
    await Promise.all([...this.sessions].map((s) => s.shutdown(graceMs)));
    await this.endpoint.close(100);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Re-exported for callers that build field lines themselves. */
export { requestLines, responseLines };
