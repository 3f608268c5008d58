// A client and a server Endpoint over a SimNetwork, with the test PKI, collecting each side's events: the
// `Pair` of quinn's tests, on virtual time.

import { nodeProvider, type CryptoProvider } from '@gquic/crypto';
import { Endpoint, type ClientConfig, type Connection, type ConnectionEvent, type ServerConfig, type TransportConfig } from '@gquic/quic';
import { SERVER_ADDRESS, SimNetwork, type SimOptions } from './sim-network.js';
import { createTestPki } from './tls-pki.js';

export const SIM_START_US = Date.UTC(2026, 10, 24) * 1000;

export interface QuicPairOptions extends SimOptions {
  transport?: Partial<TransportConfig>;
  /** Server options beyond TLS and transport (retry, tokenKey, newTokens). */
  server?: Omit<ServerConfig, 'tls' | 'transport'>;
  /** Client options beyond TLS and transport (addressToken). */
  client?: Omit<ClientConfig, 'tls' | 'transport'>;
  /** Extra TLS options (sessions, 0-RTT, ticket keys...). */
  clientTls?: Partial<ClientConfig['tls']>;
  serverTls?: Partial<ServerConfig['tls']>;
  clientTransport?: Partial<TransportConfig>;
  serverTransport?: Partial<TransportConfig>;
  provider?: CryptoProvider;
}

const pkiCache = new Map<CryptoProvider, ReturnType<typeof makePki>>();
function makePki(provider: CryptoProvider) {
  const pki = createTestPki(provider, SIM_START_US / 1000);
  return { pki, leaf: pki.leaf('P-256') };
}

export class QuicPair {
  readonly net: SimNetwork;
  readonly client: Endpoint;
  server: Endpoint;
  readonly serverConfig: ServerConfig;
  readonly conn: Connection;
  serverConn: Connection | undefined;
  readonly clientEvents: ConnectionEvent[] = [];
  readonly serverEvents: ConnectionEvent[] = [];

  constructor(opts: QuicPairOptions = {}) {
    const provider = opts.provider ?? nodeProvider;
    let p = pkiCache.get(provider);
    if (p === undefined) pkiCache.set(provider, (p = makePki(provider)));
    const serverConfig: ServerConfig = {
      tls: { provider, alpn: ['gquic-test'], certificateChain: p.leaf.chain, privateKey: p.leaf.key, ...opts.serverTls },
      transport: { ...opts.transport, ...opts.serverTransport },
      ...opts.server,
    };
    const clientConfig: ClientConfig = {
      tls: { provider, alpn: ['gquic-test'], serverName: 'localhost', ca: p.pki.roots, ...opts.clientTls },
      transport: { ...opts.transport, ...opts.clientTransport },
      ...opts.client,
    };
    this.serverConfig = serverConfig;
    this.server = new Endpoint(serverConfig);
    this.client = new Endpoint(undefined, { ...opts.transport, ...opts.clientTransport });
    this.net = new SimNetwork(this.client, this.server, { startUs: SIM_START_US, ...opts });
    this.conn = this.client.connect(SERVER_ADDRESS, clientConfig, this.net.now);
  }

  /** Collects events (call between steps; `run` does). */
  pump(): void {
    for (let e = this.server.pollEvent(); e !== undefined; e = this.server.pollEvent()) this.serverConn = e.connection;
    for (let e = this.conn.pollEvent(); e !== undefined; e = this.conn.pollEvent()) this.clientEvents.push(e);
    const s = this.serverConn;
    if (s !== undefined) for (let e = s.pollEvent(); e !== undefined; e = s.pollEvent()) this.serverEvents.push(e);
  }

  run(done: () => boolean, maxUs = 60_000_000, onStep?: () => void): boolean {
    return this.net.run(done, maxUs, () => {
      this.pump();
      onStep?.();
    });
  }

  handshake(maxUs = 10_000_000): boolean {
    return this.run(() => this.conn.handshakeConfirmed && (this.serverConn?.handshakeConfirmed ?? false), maxUs);
  }

  /** The server loses all state (a crash or restart): a fresh endpoint with the same configuration. */
  restartServer(): void {
    this.server = new Endpoint(this.serverConfig);
    this.net.server = this.server;
  }

  get now(): number {
    return this.net.now;
  }
}

/** A streaming SHA-256-free checksum for large transfers: FNV-1a over 32 bits, position-sensitive. */
export function checksum(chunks: Iterable<Uint8Array>): number {
  let h = 0x811c9dc5;
  for (const c of chunks) for (let i = 0; i < c.length; i++) h = Math.imul(h ^ c[i]!, 0x01000193) >>> 0;
  return h;
}

/** Deterministic pseudo-random bytes. */
export function patternBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * Sends `data` client → server on a new bidirectional stream (FIN at the end), running the pair until the server
 * has read it all or `maxUs` passed. `during` runs at every step (e.g. to ask for a key update).
 */
export function sendOneWay(p: QuicPair, data: Uint8Array, opts: { maxUs?: number; chunk?: number; during?: () => void } = {}): { done: boolean; received: Buffer } {
  const id = p.conn.openStream(true)!;
  const chunk = opts.chunk ?? data.length;
  let written = 0;
  const got: Uint8Array[] = [];
  let fin = false;
  const done = p.run(
    () => fin,
    opts.maxUs ?? 60_000_000,
    () => {
      while (written < data.length) {
        const end = Math.min(data.length, written + chunk);
        const n = p.conn.streamWrite(id, data.subarray(written, end), end === data.length);
        written += n;
        if (n < end - (written - n)) break;
      }
      opts.during?.();
      const s = p.serverConn;
      if (s === undefined) return;
      for (let r = s.streamRead(id, 1 << 20, p.now); r !== null; r = s.streamRead(id, 1 << 20, p.now)) {
        got.push(r.data);
        if (r.fin) fin = true;
      }
    },
  );
  return { done, received: Buffer.concat(got) };
}
