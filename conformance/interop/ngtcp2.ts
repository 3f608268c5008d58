// Interop against ngtcp2 0.12 (`gtlsserver` / `gtlsclient` from ../shared/peers) over HTTP/3, both roles, with
// the cases of the QUIC interop runner that apply here: `gquic get` against gtlsserver, gtlsclient against
// `gquic serve`. Every download is compared byte for byte with the served file. The loss and corruption cases go
// through the in-repo impairment proxy (udp-proxy.ts).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Http3Client, type H3Session } from '@gquic/http3';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import { QUIC_V1, QUIC_V2 } from '@gquic/wire';
import { get, serve, type GetOptions } from 'gquic';
import { INTEROP_PKI, Unsupported, pattern, withTimeout, type InteropCase } from './common.js';
import { ImpairmentProxy, type Impairment } from './udp-proxy.js';

// ---------------------------------------------------------------------------------------------------------
// The served files

const WWW = join(INTEROP_PKI.dir, 'www');
const TRANSFER = ['t1.bin', 't3.bin', 't10.bin'];
const SIZES: Record<string, number> = { 't1.bin': 1 << 20, 't3.bin': 3 << 20, 't10.bin': 10 << 20, 'hs.bin': 2000 };
const SMALL = Array.from({ length: 1000 }, (_, i) => `m${String(i).padStart(4, '0')}.txt`);
let wwwReady = false;

function ensureWww(): void {
  if (wwwReady) return;
  mkdirSync(WWW, { recursive: true });
  for (const [name, size] of Object.entries(SIZES)) writeFileSync(join(WWW, name), pattern(size, size));
  for (let i = 0; i < SMALL.length; i++) writeFileSync(join(WWW, SMALL[i]!), pattern(500 + i, i + 7));
  wwwReady = true;
}

/** Every file in `names` under `dir` equals the served one. */
function verify(dir: string, names: readonly string[]): void {
  for (const n of names) {
    const p = join(dir, n);
    if (!existsSync(p)) throw new Error(`${n} was not downloaded`);
    if (!readFileSync(p).equals(readFileSync(join(WWW, n)))) throw new Error(`${n} differs from the served file`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// ngtcp2's tools

/** GQUIC_INTEROP_QLOG=DIR: qlog files from both sides of every case (ngtcp2's and ours) in DIR. */
const QLOG_DIR = process.env['GQUIC_INTEROP_QLOG'];
const QLOG_FLAGS = QLOG_DIR === undefined ? [] : [`--qlog-dir=${QLOG_DIR}`];

function ensureInstalled(): void {
  const found = ['/usr/bin/gtlsserver', '/usr/sbin/gtlsserver'].some((p) => existsSync(p)) && existsSync('/usr/bin/gtlsclient');
  if (!found) throw new Error('ngtcp2 peers are not installed: run scripts/peers.sh (npm test does)');
  ensureWww();
}

async function freePort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** gtlsserver serving WWW with our interop certificate. */
async function gtlsServer(flags: string[] = []): Promise<{ port: number; stop(): void }> {
  ensureInstalled();
  const port = await freePort();
  const bin = existsSync('/usr/sbin/gtlsserver') ? '/usr/sbin/gtlsserver' : '/usr/bin/gtlsserver';
  const child = spawn(bin, ['-q', '-d', WWW, ...QLOG_FLAGS, ...flags, '127.0.0.1', String(port), INTEROP_PKI.keyPem, INTEROP_PKI.certPem], { stdio: ['ignore', 'ignore', 'ignore'] });
  await new Promise((r) => setTimeout(r, 150)); // let it bind
  return { port, stop: () => child.kill('SIGTERM') };
}

/**
 * gtlsclient downloading `names` from 127.0.0.1:`port` into a fresh directory; resolves with that directory once it
 * exits. (It exits 0 even when a download failed: the caller verifies the files.)
 */
async function gtlsClient(port: number, names: readonly string[], flags: string[] = [], timeoutMs = 60_000): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gquic-ngtcp2-dl-'));
  const urls = names.map((n) => `https://127.0.0.1:${port}/${n}`);
  const child = spawn('/usr/bin/gtlsclient', ['-q', '--exit-on-all-streams-close', '--download', dir, ...QLOG_FLAGS, ...flags, '127.0.0.1', String(port), ...urls], { stdio: ['ignore', 'ignore', 'ignore'] });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      child.once('exit', () => resolve());
      child.once('error', reject);
    }),
    timeoutMs,
    'gtlsclient to finish',
  ).finally(() => child.kill('SIGKILL'));
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// Our side: `gquic serve` and `gquic get`

async function ourServer(opts: { retry?: boolean } = {}): Promise<{ port: number; sessions: H3Session[]; stop(): Promise<void> }> {
  ensureWww();
  const sessions: H3Session[] = [];
  const server = await serve({ root: WWW, host: '127.0.0.1', port: 0, certFile: INTEROP_PKI.certPem, keyFile: INTEROP_PKI.keyPem, ...(QLOG_DIR !== undefined ? { qlogDir: QLOG_DIR } : {}), ...opts, onSession: (s) => sessions.push(s) });
  return { port: server.address.port, sessions, stop: () => server.close(100) };
}

const quiet = { write: (): boolean => true };

/** `gquic get` of `names` from 127.0.0.1:`port`, verified; returns its connection notes. */
async function ourGet(port: number, names: readonly string[], extra: Partial<GetOptions> = {}): Promise<Awaited<ReturnType<typeof get>>['connections']> {
  const outputDir = mkdtempSync(join(tmpdir(), 'gquic-get-'));
  const r = await withTimeout(get({ urls: names.map((n) => `https://localhost:${port}/${n}`), outputDir, caFile: INTEROP_PKI.caPem, stderr: quiet, stdout: quiet, ...(QLOG_DIR !== undefined ? { qlogDir: QLOG_DIR } : {}), ...extra }), 120_000, 'gquic get');
  const failed = r.results.filter((x) => !x.ok);
  if (failed.length > 0) throw new Error(`${failed.length} downloads failed, first: ${failed[0]!.url}: ${failed[0]!.error}`);
  verify(outputDir, names);
  return r.connections;
}

/** The connections of our server's sessions, once their handshakes are done. */
async function serverConns(sessions: H3Session[]): Promise<Array<{ conn: QuicConnection; ready: { resumed: boolean; cipherSuite: number } }>> {
  return Promise.all(sessions.map(async (s) => ({ conn: s.conn, ready: await s.conn.ready })));
}

// ---------------------------------------------------------------------------------------------------------
// The cases

/** gtlsclient takes a GnuTLS priority string. */
const NG_CHACHA = '--ciphers=NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305';
const V2_UNSUPPORTED = 'ngtcp2 0.12 speaks only the v2 draft (0x709a50c4), not RFC 9369 QUIC v2 (0x6b3343cf)';
const HS_LOSS: Impairment = { seed: 11, loss: 0.3 };
const HS_CORRUPT: Impairment = { seed: 12, corrupt: 0.3 };
const XFER_LOSS: Impairment = { seed: 13, loss: 0.02, reorder: 0.02, reorderMs: 3 };
const XFER_CORRUPT: Impairment = { seed: 14, corrupt: 0.02 };

/**
 * Under 30% loss a handshake can take many seconds: the server's PTO backs off exponentially while its two-packet
 * flight keeps losing a packet. gtlsserver gives up after its 10 s handshake timeout by default (closing with
 * PROTOCOL_VIOLATION, seen here about once in 40 connections), so the loss cases give both sides 60 s.
 */
const LOSSY_HANDSHAKE = ['--handshake-timeout=60s'];

/** Through the proxy: our client → proxy → gtlsserver. */
async function clientThroughProxy(imp: Impairment, names: readonly string[], connections: number): Promise<void> {
  const srv = await gtlsServer(LOSSY_HANDSHAKE);
  const proxy = await ImpairmentProxy.start({ host: '127.0.0.1', port: srv.port }, imp);
  try {
    for (let i = 0; i < connections; i++) await ourGet(proxy.port, names, { timeoutMs: 60_000 });
    if (proxy.stats.dropped + proxy.stats.corrupted === 0) throw new Error('the proxy impaired nothing');
  } finally {
    await proxy.close();
    srv.stop();
  }
}

/** Through the proxy: gtlsclient → proxy → our server. */
async function serverThroughProxy(imp: Impairment, names: readonly string[], connections: number): Promise<void> {
  const srv = await ourServer();
  const proxy = await ImpairmentProxy.start({ host: '127.0.0.1', port: srv.port }, imp);
  try {
    for (let i = 0; i < connections; i++) verify(await gtlsClient(proxy.port, names, LOSSY_HANDSHAKE, 90_000), names);
    if (proxy.stats.dropped + proxy.stats.corrupted === 0) throw new Error('the proxy impaired nothing');
  } finally {
    await proxy.close();
    await srv.stop();
  }
}

const asClient = (name: string, run: () => Promise<void>): InteropCase => ({ peer: 'ngtcp2', role: 'client', name, run });
const asServer = (name: string, run: () => Promise<void>): InteropCase => ({ peer: 'ngtcp2', role: 'server', name, run });

/** gquic get against gtlsserver. */
const clientCases: InteropCase[] = [
  asClient('http3 (GET of one file)', async () => {
    const srv = await gtlsServer();
    try {
      await ourGet(srv.port, ['hs.bin']);
    } finally {
      srv.stop();
    }
  }),
  asClient('transfer (1, 3 and 10 MB at once)', async () => {
    const srv = await gtlsServer();
    try {
      await ourGet(srv.port, TRANSFER);
    } finally {
      srv.stop();
    }
  }),
  asClient('multiplexing (1000 small files, one connection)', async () => {
    const srv = await gtlsServer();
    try {
      const conns = await ourGet(srv.port, SMALL);
      if (conns.length !== 1) throw new Error(`${conns.length} connections`);
    } finally {
      srv.stop();
    }
  }),
  asClient('retry (gtlsserver -V)', async () => {
    const srv = await gtlsServer(['-V']);
    let conn: QuicConnection | undefined;
    try {
      const client = new Http3Client({ ca: INTEROP_PKI.roots, onConnection: (c) => (conn = c) });
      const r = await client.fetch(`https://localhost:${srv.port}/hs.bin`);
      const body = new Uint8Array(await r.arrayBuffer());
      await client.close();
      if (!Buffer.from(body).equals(readFileSync(join(WWW, 'hs.bin')))) throw new Error('hs.bin differs');
      if ((conn!.core as unknown as { retryScid?: Uint8Array }).retryScid === undefined) throw new Error('no Retry seen');
    } finally {
      srv.stop();
    }
  }),
  asClient('resumption (session file, second run resumes)', async () => {
    const srv = await gtlsServer();
    const sessionFile = join(mkdtempSync(join(tmpdir(), 'gquic-sess-')), 'session.json');
    try {
      const first = await ourGet(srv.port, ['hs.bin'], { sessionFile });
      if (first[0]!.resumed) throw new Error('the first connection resumed');
      const second = await ourGet(srv.port, ['t1.bin'], { sessionFile });
      if (!second[0]!.resumed) throw new Error('the second connection did not resume');
    } finally {
      srv.stop();
    }
  }),
  asClient('zerortt (second run sends its GETs as 0-RTT)', async () => {
    const srv = await gtlsServer();
    const sessionFile = join(mkdtempSync(join(tmpdir(), 'gquic-sess-')), 'session.json');
    try {
      await ourGet(srv.port, ['hs.bin'], { sessionFile });
      const second = await ourGet(srv.port, SMALL.slice(0, 20), { sessionFile });
      const c = second[0]!;
      if (c.earlyDataAccepted !== true || c.zeroRttPackets === 0) throw new Error(`0-RTT ${c.earlyDataAccepted}, ${c.zeroRttPackets} packets`);
    } finally {
      srv.stop();
    }
  }),
  asClient('multiconnect (5 connections one after another)', async () => {
    const srv = await gtlsServer();
    try {
      for (let i = 0; i < 5; i++) await ourGet(srv.port, ['hs.bin']);
    } finally {
      srv.stop();
    }
  }),
  asClient('chacha20 (only TLS_CHACHA20_POLY1305_SHA256 offered)', async () => {
    const srv = await gtlsServer();
    try {
      const c = await ourGet(srv.port, ['t1.bin'], { cipher: 'chacha20' });
      if (c[0]!.cipherSuite !== 0x1303) throw new Error(`cipher suite 0x${c[0]!.cipherSuite?.toString(16)}`);
    } finally {
      srv.stop();
    }
  }),
  asClient('keyupdate (ours, after the handshake)', async () => {
    const srv = await gtlsServer();
    try {
      const c = await ourGet(srv.port, ['t3.bin'], { keyUpdate: true });
      if (c[0]!.keyUpdates < 1) throw new Error('no key update');
    } finally {
      srv.stop();
    }
  }),
  asClient('v2', async () => {
    throw new Unsupported(V2_UNSUPPORTED);
  }),
  asClient('connectionmigration (ours, to a new local socket mid-transfer)', async () => {
    const srv = await gtlsServer();
    let conn: QuicConnection | undefined;
    try {
      const client = new Http3Client({ ca: INTEROP_PKI.roots, onConnection: (c) => (conn = c) });
      const r = await client.fetch(`https://localhost:${srv.port}/t3.bin`);
      const reader = r.body!.getReader();
      const chunks: Uint8Array[] = [];
      let got = 0;
      let migrated = false;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        got += value.length;
        if (!migrated && got > 500_000) {
          migrated = true;
          for (let i = 0; i < 50 && conn!.core.peerCids.active.length < 2; i++) await new Promise((res) => setTimeout(res, 10));
          await conn!.migrate();
        }
      }
      await client.close();
      if (!Buffer.concat(chunks).equals(readFileSync(join(WWW, 't3.bin')))) throw new Error('t3.bin differs');
      if (conn!.core.migrations !== 1) throw new Error(`${conn!.core.migrations} migrations`);
    } finally {
      srv.stop();
    }
  }),
  asClient('handshakeloss (30% loss both ways, 3 connections)', () => clientThroughProxy(HS_LOSS, ['hs.bin'], 3)),
  asClient('transferloss (2% loss and 2% reordering, 3 MB)', () => clientThroughProxy(XFER_LOSS, ['t3.bin'], 1)),
  asClient('handshakecorruption (30% of datagrams corrupted, 3 connections)', () => clientThroughProxy(HS_CORRUPT, ['hs.bin'], 3)),
  asClient('transfercorruption (2% corrupted, 3 MB)', () => clientThroughProxy(XFER_CORRUPT, ['t3.bin'], 1)),
  asClient('version negotiation (v2 → VN → v1; refused without RFC 9368 version_information)', async () => {
    // ngtcp2 0.12 answers our v2 Initial with Version Negotiation; we move to v1. It predates RFC 9368's
    // version_information codepoint, and RFC 9368 §4 says a client that reacted to a Version Negotiation packet
    // MUST NOT complete the handshake without it: the expected outcome is our VERSION_NEGOTIATION_ERROR.
    const srv = await gtlsServer();
    const ep = await QuicEndpoint.bind({ host: '127.0.0.1', transport: { version: QUIC_V2, versions: [QUIC_V2, QUIC_V1] } });
    try {
      const outcome = await withTimeout(
        ep.connect('127.0.0.1', srv.port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: INTEROP_PKI.roots } }).then(
          () => 'completed',
          (e: { code?: number; message?: string }) => (e.code === 0x11 ? 'vn-error' : `other: ${e.message}`),
        ),
        10_000,
        'handshake after Version Negotiation',
      );
      if (outcome !== 'vn-error') throw new Error(`expected VERSION_NEGOTIATION_ERROR, got ${outcome}`);
    } finally {
      await ep.close(200);
      srv.stop();
    }
  }),
];

/** gtlsclient against gquic serve. */
const serverCases: InteropCase[] = [
  asServer('http3 (GET of one file)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, ['hs.bin']), ['hs.bin']);
    } finally {
      await srv.stop();
    }
  }),
  asServer('transfer (1, 3 and 10 MB at once)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, TRANSFER), TRANSFER);
    } finally {
      await srv.stop();
    }
  }),
  asServer('multiplexing (1000 small files, one connection)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, SMALL), SMALL);
      if (srv.sessions.length !== 1) throw new Error(`${srv.sessions.length} connections`);
    } finally {
      await srv.stop();
    }
  }),
  asServer('retry (ours)', async () => {
    const srv = await ourServer({ retry: true });
    try {
      verify(await gtlsClient(srv.port, ['hs.bin']), ['hs.bin']);
      const conns = await serverConns(srv.sessions);
      if (conns.length !== 1 || (conns[0]!.conn.core as unknown as { serverRetryScid?: Uint8Array }).serverRetryScid === undefined) throw new Error('the client did not come through our Retry');
    } finally {
      await srv.stop();
    }
  }),
  asServer('resumption (gtlsclient --session-file, second run)', async () => {
    const srv = await ourServer();
    const d = mkdtempSync(join(tmpdir(), 'gquic-ngsess-'));
    const flags = [`--session-file=${join(d, 's')}`, `--tp-file=${join(d, 't')}`, '--disable-early-data'];
    try {
      verify(await gtlsClient(srv.port, ['hs.bin'], flags), ['hs.bin']);
      verify(await gtlsClient(srv.port, ['t1.bin'], flags), ['t1.bin']);
      const conns = await serverConns(srv.sessions);
      if (conns.length !== 2 || conns[0]!.ready.resumed || !conns[1]!.ready.resumed) throw new Error(`resumed: ${conns.map((c) => c.ready.resumed).join(', ')}`);
    } finally {
      await srv.stop();
    }
  }),
  asServer('zerortt (gtlsclient sends its requests as 0-RTT)', async () => {
    const srv = await ourServer();
    const d = mkdtempSync(join(tmpdir(), 'gquic-ngsess-'));
    const flags = [`--session-file=${join(d, 's')}`, `--tp-file=${join(d, 't')}`];
    try {
      verify(await gtlsClient(srv.port, ['hs.bin'], flags), ['hs.bin']);
      const names = SMALL.slice(0, 20);
      verify(await gtlsClient(srv.port, names, flags), names);
      const conns = await serverConns(srv.sessions);
      const second = conns[1]!;
      if (!second.ready.resumed || second.conn.core.stats().zeroRttPacketsReceived === 0) throw new Error(`resumed ${second.ready.resumed}, ${second.conn.core.stats().zeroRttPacketsReceived} 0-RTT packets`);
    } finally {
      await srv.stop();
    }
  }),
  asServer('multiconnect (5 connections one after another)', async () => {
    const srv = await ourServer();
    try {
      for (let i = 0; i < 5; i++) verify(await gtlsClient(srv.port, ['hs.bin']), ['hs.bin']);
      if (srv.sessions.length !== 5) throw new Error(`${srv.sessions.length} connections`);
    } finally {
      await srv.stop();
    }
  }),
  asServer('chacha20 (gtlsclient offers only ChaCha20-Poly1305)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, ['t1.bin'], [NG_CHACHA]), ['t1.bin']);
      const conns = await serverConns(srv.sessions);
      if (conns[0]!.ready.cipherSuite !== 0x1303) throw new Error(`cipher suite 0x${conns[0]!.ready.cipherSuite.toString(16)}`);
    } finally {
      await srv.stop();
    }
  }),
  asServer('keyupdate (gtlsclient --key-update)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, ['t3.bin'], ['--key-update=1ms']), ['t3.bin']);
      const n = srv.sessions[0]!.conn.core.keyUpdates;
      if (n < 1) throw new Error('no key update');
    } finally {
      await srv.stop();
    }
  }),
  asServer('v2', async () => {
    throw new Unsupported(V2_UNSUPPORTED);
  }),
  asServer('connectionmigration (gtlsclient --change-local-addr)', async () => {
    const srv = await ourServer();
    try {
      // The change must come while the 10 MB are still flowing (3 MB take ~60 ms here).
      verify(await gtlsClient(srv.port, ['t10.bin'], ['--change-local-addr=15ms']), ['t10.bin']);
      const m = srv.sessions[0]!.conn.core.migrations;
      if (m < 1) throw new Error('the client did not migrate');
    } finally {
      await srv.stop();
    }
  }),
  asServer('handshakeloss (30% loss both ways, 5 connections)', () => serverThroughProxy(HS_LOSS, ['hs.bin'], 5)),
  asServer('transferloss (2% loss and 2% reordering, 3 MB)', () => serverThroughProxy(XFER_LOSS, ['t3.bin'], 1)),
  asServer('handshakecorruption (30% of datagrams corrupted, 5 connections)', () => serverThroughProxy(HS_CORRUPT, ['hs.bin'], 5)),
  asServer('transfercorruption (2% corrupted, 3 MB)', () => serverThroughProxy(XFER_CORRUPT, ['t3.bin'], 1)),
  asServer('version negotiation (client starts with a reserved version)', async () => {
    const srv = await ourServer();
    try {
      verify(await gtlsClient(srv.port, ['hs.bin'], ['-v', '0x1a2a3a4a', '--preferred-versions=v1']), ['hs.bin']);
      const conns = await serverConns(srv.sessions);
      if (conns[0]!.conn.core.transport.version !== QUIC_V1) throw new Error('not v1');
    } finally {
      await srv.stop();
    }
  }),
];

export const ngtcp2Cases: InteropCase[] = [...clientCases, ...serverCases];
