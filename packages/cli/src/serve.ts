// `gquic serve`: an HTTP/3 file server. GET and HEAD of files under --root (index.html for directories),
// byte-exact, streamed from disk with backpressure; a self-signed localhost certificate unless --cert/--key.

import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { nodeProvider, parsePem, parsePrivateKey } from '@gquic/crypto';
import { Http3Server, type H3Session } from '@gquic/http3';
import { congestionControl, type CongestionControlName } from '@gquic/quic';
import { AntiReplay, TicketKeyRing, createSelfSignedCertificate } from '@gquic/tls';

export interface ServeOptions {
  root: string;
  host: string;
  port: number;
  certFile?: string;
  keyFile?: string;
  retry?: boolean;
  qlogDir?: string;
  keyLogFile?: string;
  /** One line per request to here (a log). */
  log?: (line: string) => void;
  /** Congestion controller (default NewReno). */
  cc?: CongestionControlName;
  /** Each HTTP/3 session as it starts (tests and the interop runner look at its connection). */
  onSession?: (session: H3Session) => void;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
};

async function credentials(o: ServeOptions): Promise<{ certificateChain: Uint8Array[]; privateKey: ReturnType<typeof parsePrivateKey> }> {
  if ((o.certFile === undefined) !== (o.keyFile === undefined)) throw new Error('--cert and --key go together');
  if (o.certFile !== undefined && o.keyFile !== undefined) {
    const chain = parsePem(await readFile(o.certFile, 'utf8'))
      .filter((b) => b.label === 'CERTIFICATE')
      .map((b) => b.der);
    if (chain.length === 0) throw new Error(`${o.certFile}: no CERTIFICATE block`);
    return { certificateChain: chain, privateKey: parsePrivateKey(await readFile(o.keyFile, 'utf8')) };
  }
  const self = createSelfSignedCertificate({ provider: nodeProvider });
  return { certificateChain: [self.certificate], privateKey: self.key };
}

/** Maps a URL path to a file under root, refusing anything that escapes it (.., symlinks out). */
async function resolveFile(root: string, pathname: string): Promise<string | undefined> {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (rel.includes('\0')) return undefined;
  let file = resolve(root, `.${rel}`);
  if (file !== root && !file.startsWith(root + sep)) return undefined;
  try {
    let st = await stat(file);
    if (st.isDirectory()) {
      file = join(file, 'index.html');
      st = await stat(file);
    }
    if (!st.isFile()) return undefined;
    const real = await realpath(file);
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

export async function serve(o: ServeOptions): Promise<Http3Server> {
  const root = await realpath(resolve(o.root));
  if (!(await stat(root)).isDirectory()) throw new Error(`--root ${o.root} is not a directory`);
  const creds = await credentials(o);
  return Http3Server.listen({
    host: o.host,
    port: o.port,
    ...(o.retry === true ? { retry: true } : {}),
    ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}),
    ...(o.keyLogFile !== undefined ? { keyLogFile: o.keyLogFile } : {}),
    ...(o.onSession !== undefined ? { onSession: o.onSession } : {}),
    ...(o.cc !== undefined ? { transport: { congestionController: congestionControl(o.cc) } } : {}),
    // Tickets for resumption, and 0-RTT for the idempotent GET/HEAD this server answers.
    tls: { ...creds, ticketKeys: new TicketKeyRing(nodeProvider), antiReplay: new AntiReplay(), earlyData: true },
    handler: async (req) => {
      const url = new URL(req.url);
      const status = (s: number, text: string): Response => {
        o.log?.(`${req.method} ${url.pathname} ${s}`);
        return new Response(`${text}\n`, { status: s, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      };
      if (req.method !== 'GET' && req.method !== 'HEAD') return status(405, 'method not allowed');
      const file = await resolveFile(root, url.pathname);
      if (file === undefined) return status(404, 'not found');
      const st = await stat(file);
      o.log?.(`${req.method} ${url.pathname} 200 ${st.size}`);
      const headers = { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': String(st.size), 'last-modified': st.mtime.toUTCString() };
      if (req.method === 'HEAD') return new Response(null, { headers });
      const body = Readable.toWeb(createReadStream(file, { highWaterMark: 256 * 1024 })) as ReadableStream<Uint8Array>;
      return new Response(body, { headers });
    },
  });
}
