// `gquic get`: downloads over HTTP/3. Several URLs go out concurrently (one connection per origin); a session
// file keeps TLS tickets between runs, so the next run resumes and sends its GETs as 0-RTT.

import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import type { QuicConnection } from '@gquic/node';
import { congestionControl, type CongestionControlName } from '@gquic/quic';
import { Http3Client, deserializeSession, serializeSession, type SessionStore } from '@gquic/http3';
import type { ClientSession } from '@gquic/tls';

export const CIPHERS: Record<string, number> = { aes128: 0x1301, aes256: 0x1302, chacha20: 0x1303 };

export interface GetOptions {
  urls: string[];
  output?: string;
  outputDir?: string;
  caFile?: string;
  insecure?: boolean;
  sessionFile?: string;
  cipher?: string;
  keyUpdate?: boolean;
  qlogDir?: string;
  keyLogFile?: string;
  timeoutMs?: number;
  /** Congestion controller (default NewReno). */
  cc?: CongestionControlName;
  /** Where progress and per-connection notes go. */
  stderr: { write(s: string): unknown; isTTY?: boolean };
  stdout: NodeJS.WritableStream | { write(s: Uint8Array | string): unknown };
  verbose?: boolean;
}

export interface GetResult {
  url: string;
  status: number;
  bytes: number;
  ok: boolean;
  error?: string;
}

export interface ConnectionNote {
  origin: string;
  resumed: boolean;
  earlyDataAccepted: boolean | undefined;
  zeroRttPackets: number;
  keyUpdates: number;
  version: number;
  cipherSuite: number | undefined;
}

/** A session store backed by a JSON file: { origin: session }. */
async function fileStore(path: string | undefined): Promise<{ store: SessionStore; save(): Promise<void> }> {
  const map = new Map<string, ClientSession>();
  if (path !== undefined) {
    try {
      const o = JSON.parse(await readFile(path, 'utf8')) as Record<string, string>;
      for (const [origin, s] of Object.entries(o)) map.set(origin, deserializeSession(s));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`--session-file ${path}: ${(e as Error).message}`);
    }
  }
  return {
    store: map,
    save: async () => {
      if (path === undefined) return;
      await writeFile(path, JSON.stringify(Object.fromEntries([...map].map(([k, v]) => [k, serializeSession(v)])), null, 1));
    },
  };
}

function outputName(url: URL): string {
  const name = basename(decodeURIComponent(url.pathname));
  return name === '' || name === '/' ? 'index.html' : name;
}

export async function get(o: GetOptions): Promise<{ results: GetResult[]; connections: ConnectionNote[] }> {
  if (o.urls.length === 0) throw new Error('give at least one URL');
  const urls = o.urls.map((u) => {
    try {
      return new URL(u);
    } catch {
      throw new Error(`not a URL: ${u}`);
    }
  });
  if (o.output !== undefined && urls.length > 1) throw new Error('-o takes one URL; use --output-dir for several');
  if (o.output === undefined && o.outputDir === undefined && urls.length > 1) throw new Error('several URLs need --output-dir');
  if (o.cipher !== undefined && CIPHERS[o.cipher] === undefined) throw new Error(`--cipher is one of ${Object.keys(CIPHERS).join(', ')}`);
  if (o.caFile !== undefined && o.insecure === true) throw new Error('--ca and --insecure exclude each other');
  const ca = o.caFile === undefined ? undefined : await readFile(o.caFile, 'utf8');
  const { store, save } = await fileStore(o.sessionFile);
  const conns: Array<{ conn: QuicConnection; origin: string }> = [];
  const client = new Http3Client({
    ...(ca !== undefined ? { ca } : {}),
    ...(o.insecure === true ? { insecure: true } : {}),
    ...(o.cipher !== undefined ? { cipherSuites: [CIPHERS[o.cipher]!] } : {}),
    ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}),
    ...(o.keyLogFile !== undefined ? { keyLogFile: o.keyLogFile } : {}),
    ...(o.timeoutMs !== undefined ? { connectTimeoutMs: o.timeoutMs } : {}),
    ...(o.cc !== undefined ? { transport: { congestionController: congestionControl(o.cc) } } : {}),
    sessions: store,
    onConnection: (conn, origin) => {
      conns.push({ conn, origin });
      if (o.keyUpdate === true) void conn.ready.then(() => conn.updateKeys()).catch(() => undefined);
    },
  });
  const progress = new Progress(o.stderr, urls.length);
  const results = await Promise.all(
    urls.map(async (url, i): Promise<GetResult> => {
      try {
        const res = await client.fetch(url);
        const total = Number(res.headers.get('content-length') ?? NaN);
        progress.start(i, Number.isFinite(total) ? total : undefined);
        const sink = o.output !== undefined ? createWriteStream(o.output) : o.outputDir !== undefined ? createWriteStream(join(o.outputDir, outputName(url))) : undefined;
        let bytes = 0;
        const counter = new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, c) {
            bytes += chunk.length;
            progress.update(i, bytes);
            c.enqueue(chunk);
          },
        });
        const dest = sink !== undefined ? (Writable.toWeb(sink) as WritableStream<Uint8Array>) : stdoutSink(o.stdout);
        await res.body?.pipeThrough(counter).pipeTo(dest);
        if (res.body === null) await dest.close();
        const complete = !Number.isFinite(total) || bytes === total;
        const ok = res.status >= 200 && res.status < 300 && complete;
        return { url: url.href, status: res.status, bytes, ok, ...(ok ? {} : { error: complete ? `HTTP ${res.status}` : `got ${bytes} of ${total} bytes` }) };
      } catch (e) {
        return { url: url.href, status: 0, bytes: 0, ok: false, error: describe(e) };
      } finally {
        progress.done(i);
      }
    }),
  );
  progress.finish();
  const ready = await Promise.all(conns.map(({ conn }) => conn.ready.catch(() => undefined)));
  const connections = conns.map(({ conn, origin }, i) => ({
    origin,
    resumed: ready[i]?.resumed ?? false,
    earlyDataAccepted: conn.core.earlyDataAccepted,
    zeroRttPackets: conn.core.stats().zeroRttPacketsSent,
    keyUpdates: conn.core.keyUpdates,
    version: conn.core.transport.version,
    cipherSuite: ready[i]?.cipherSuite,
  }));
  await client.close();
  await save();
  return { results, connections };
}

function stdoutSink(out: GetOptions['stdout']): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve) => {
        const w = out as NodeJS.WritableStream;
        if (typeof w.once === 'function' && w.write(chunk) === false) w.once('drain', () => resolve());
        else {
          if (typeof w.once !== 'function') out.write(chunk);
          resolve();
        }
      }),
  });
}

/** A readable reason for a failed download. */
function describe(e: unknown): string {
  const m = (e as Error)?.message ?? String(e);
  if (/unknown_ca|bad_certificate|certificate_|CRYPTO_ERROR\(0x12[a-f]\)|CRYPTO_ERROR\(0x130\)/i.test(m)) return `certificate check failed (use --ca F or --insecure): ${m}`;
  if (/ECONNREFUSED|no QUIC handshake|ENOTFOUND|EAI_AGAIN/.test(m)) return `cannot reach the server: ${m}`;
  return m;
}

/** One status line on a TTY (bytes and percent for each download), nothing otherwise. */
class Progress {
  private readonly got: number[];
  private readonly totals: Array<number | undefined>;
  private last = 0;

  constructor(
    private readonly out: { write(s: string): unknown; isTTY?: boolean },
    n: number,
  ) {
    this.got = new Array<number>(n).fill(0);
    this.totals = new Array<number | undefined>(n).fill(undefined);
  }

  start(i: number, total: number | undefined): void {
    this.totals[i] = total;
  }

  update(i: number, bytes: number): void {
    this.got[i] = bytes;
    const now = Date.now();
    if (this.out.isTTY !== true || now - this.last < 100) return;
    this.last = now;
    const got = this.got.reduce((a, b) => a + b, 0);
    const known = this.totals.every((t) => t !== undefined);
    const total = this.totals.reduce<number>((a, b) => a + (b ?? 0), 0);
    const pct = known && total > 0 ? Math.min(100, Math.floor((100 * got) / total)) : undefined;
    const width = 30;
    const bar = pct === undefined ? '' : `[${'#'.repeat(Math.floor((pct * width) / 100)).padEnd(width)}] ${pct}% `;
    this.out.write(`\r${bar}${(got / 1e6).toFixed(1)} MB`);
  }

  done(i: number): void {
    this.update(i, this.got[i]!);
  }

  finish(): void {
    if (this.out.isTTY === true) this.out.write('\n');
  }
}
