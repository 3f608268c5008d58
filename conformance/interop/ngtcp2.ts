// Interop cases against ngtcp2 0.12 (`gtlsserver` / `gtlsclient` from ../shared/peers). Its tools speak only
// HTTP/3, which comes in a later issue, so these cases stop at the completed handshake (ALPN h3).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import { QUIC_V1, QUIC_V2 } from '@gquic/wire';

import { INTEROP_PKI, withTimeout, type InteropCase } from './common.js';

const PEERS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/peers');

function ensureInstalled(): void {
  const found = ['/usr/bin/gtlsserver', '/usr/sbin/gtlsserver', '/usr/bin/gtlsclient'].some((p) => existsSync(p));
  if (!found) throw new Error('ngtcp2 peers are not installed: run scripts/peers.sh (npm test does)');
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function run(script: string, args: string[], env: Record<string, string>): ChildProcess {
  const child = spawn('bash', [join(PEERS, script), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', () => undefined);
  return child;
}

/**
 * Our server on a fresh port, gtlsclient (with `flags`) connecting to it; `check` runs once our side of the
 * handshake is complete, then the connection is closed with H3_NO_ERROR and the client stopped.
 */
async function withGtlsClient(server: { retry?: boolean }, flags: string, check: (conn: QuicConnection, ep: QuicEndpoint) => Promise<void>): Promise<void> {
  ensureInstalled();
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1', server: { ...server, tls: { alpn: ['h3'], certificateChain: INTEROP_PKI.chain, privateKey: INTEROP_PKI.key } } });
  const port = ep.address.port;
  const client = run('ngtcp2-client.sh', [`https://127.0.0.1:${port}/`], { HOST: '127.0.0.1', PORT: String(port), DOWNLOAD: join(INTEROP_PKI.dir, 'downloads'), NGTCP2_FLAGS: flags });
  try {
    const next = await withTimeout(ep.connections[Symbol.asyncIterator]().next(), 10_000, 'a connection from gtlsclient');
    if (next.done === true) throw new Error('no connection');
    await withTimeout(next.value.ready, 10_000, 'handshake with gtlsclient');
    await check(next.value, ep);
    await next.value.close({ closeCode: 0x100, reason: 'interop handshake only' });
  } finally {
    client.kill('SIGTERM');
    await ep.close(200);
  }
}

export const ngtcp2Cases: InteropCase[] = [
  {
    peer: 'ngtcp2',
    role: 'client',
    // ngtcp2 0.12 answers our v2 Initial with Version Negotiation; we move to v1. It predates RFC 9368's
    // version_information codepoint, and RFC 9368 §4 says a client that reacted to a Version Negotiation packet
    // MUST NOT complete the handshake without it: the expected outcome is our VERSION_NEGOTIATION_ERROR.
    name: 'version negotiation (v2 → VN → v1; refused without RFC 9368 version_information)',
    async run() {
      ensureInstalled();
      const port = await freePort();
      const server = run('ngtcp2-server.sh', ['-q'], { HOST: '127.0.0.1', PORT: String(port), WWW: INTEROP_PKI.dir, CERT: INTEROP_PKI.certPem, KEY: INTEROP_PKI.keyPem });
      const ep = await QuicEndpoint.bind({ host: '127.0.0.1', transport: { version: QUIC_V2, versions: [QUIC_V2, QUIC_V1] } });
      try {
        await new Promise((r) => setTimeout(r, 200));
        const outcome = await withTimeout(
          ep.connect('127.0.0.1', port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: INTEROP_PKI.roots } }).then(
            () => 'completed',
            (e: { code?: number; message?: string }) => (e.code === 0x11 ? 'vn-error' : `other: ${e.message}`),
          ),
          10_000,
          'handshake after Version Negotiation',
        );
        if (outcome !== 'vn-error') throw new Error(`expected VERSION_NEGOTIATION_ERROR, got ${outcome}`);
      } finally {
        await ep.close(200);
        server.kill('SIGTERM');
      }
    },
  },
  {
    peer: 'ngtcp2',
    role: 'client',
    name: 'handshake',
    async run() {
      ensureInstalled();
      const port = await freePort();
      const server = run('ngtcp2-server.sh', ['-q'], { HOST: '127.0.0.1', PORT: String(port), WWW: INTEROP_PKI.dir, CERT: INTEROP_PKI.certPem, KEY: INTEROP_PKI.keyPem });
      const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
      try {
        await new Promise((r) => setTimeout(r, 200)); // let gtlsserver bind
        const conn = await withTimeout(ep.connect('127.0.0.1', port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: INTEROP_PKI.roots } }), 10_000, 'handshake with gtlsserver');
        const { alpn } = await conn.ready;
        if (alpn !== 'h3') throw new Error(`ALPN ${alpn}`);
        await conn.close({ closeCode: 0x100, reason: 'interop handshake only' }); // H3_NO_ERROR
      } finally {
        await ep.close(200);
        server.kill('SIGTERM');
      }
    },
  },
  {
    peer: 'ngtcp2',
    role: 'client',
    name: 'Retry (gtlsserver -V)',
    async run() {
      ensureInstalled();
      const port = await freePort();
      const server = run('ngtcp2-server.sh', ['-q', '-V'], { HOST: '127.0.0.1', PORT: String(port), WWW: INTEROP_PKI.dir, CERT: INTEROP_PKI.certPem, KEY: INTEROP_PKI.keyPem });
      const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
      try {
        await new Promise((r) => setTimeout(r, 200));
        const conn = await withTimeout(ep.connect('127.0.0.1', port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: INTEROP_PKI.roots } }), 10_000, 'handshake after Retry');
        if ((conn.core as unknown as { retryScid?: Uint8Array }).retryScid === undefined) throw new Error('no Retry seen');
        await conn.close({ closeCode: 0x100, reason: 'interop handshake only' });
      } finally {
        await ep.close(200);
        server.kill('SIGTERM');
      }
    },
  },
  {
    peer: 'ngtcp2',
    role: 'server',
    name: 'version negotiation (client starts with a reserved version)',
    run: () =>
      withGtlsClient({}, '-v 0x1a2a3a4a --preferred-versions=v1', async (conn) => {
        if (conn.core.transport.version !== 1) throw new Error(`version 0x${conn.core.transport.version.toString(16)}`);
      }),
  },
  {
    peer: 'ngtcp2',
    role: 'server',
    name: 'Retry (ours)',
    run: () =>
      withGtlsClient({ retry: true }, '', async (_conn, ep) => {
        if (ep.core.retriesSent !== 1) throw new Error(`${ep.core.retriesSent} Retry packets`);
      }),
  },
  {
    peer: 'ngtcp2',
    role: 'server',
    name: 'handshake',
    run: () =>
      withGtlsClient({}, '', async (conn) => {
        const { alpn } = await conn.ready;
        if (alpn !== 'h3') throw new Error(`ALPN ${alpn}`);
      }),
  },
];
