// Interop cases against ngtcp2 0.12 (`gtlsserver` / `gtlsclient` from ../shared/peers). Its tools speak only
// HTTP/3, which comes in a later issue, so these cases stop at the completed handshake (ALPN h3).

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QuicEndpoint } from '@gquic/node';
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

export const ngtcp2Cases: InteropCase[] = [
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
    role: 'server',
    name: 'handshake',
    async run() {
      ensureInstalled();
      const ep = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls: { alpn: ['h3'], certificateChain: INTEROP_PKI.chain, privateKey: INTEROP_PKI.key } } });
      const port = ep.address.port;
      const client = run('ngtcp2-client.sh', [`https://127.0.0.1:${port}/`], { HOST: '127.0.0.1', PORT: String(port), DOWNLOAD: join(INTEROP_PKI.dir, 'downloads') });
      try {
        const it = ep.connections[Symbol.asyncIterator]();
        const next = await withTimeout(it.next(), 10_000, 'gtlsclient connection');
        if (next.done === true) throw new Error('no connection');
        const { alpn } = await withTimeout(next.value.ready, 10_000, 'handshake with gtlsclient');
        if (alpn !== 'h3') throw new Error(`ALPN ${alpn}`);
        await next.value.close({ closeCode: 0x100, reason: 'interop handshake only' });
      } finally {
        client.kill('SIGTERM');
        await ep.close(200);
      }
    },
  },
];
