// The gquic command line. Subcommands are small modules; `main` only dispatches.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXAMPLES } from './examples.js';
import { inspect } from './inspect.js';
import { CIPHERS, get } from './get.js';
import { loopback } from './loopback.js';
import { serve } from './serve.js';

export { get, type GetOptions, type GetResult, type ConnectionNote } from './get.js';
export { serve, type ServeOptions } from './serve.js';

export interface Io {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

const VERSION = '0.1.0';

const USAGE = `gquic ${VERSION}: a QUIC stack in TypeScript

Usage:
  gquic loopback [--mb N] [--qlog-dir DIR] [--keylog FILE]
      Run a QUIC server and client over UDP on 127.0.0.1, echo N MB (default 10) on one stream,
      check it with SHA-256 and print handshake time, goodput, RTT and loss.
  gquic inspect (HEX | --file FILE | --example NAME) [--payload HEX] [--dcid-length N] [--json]
      Decode the packet headers of a datagram (coalesced packets included) and, given the
      unprotected payload, its frames and transport parameters.
  gquic inspect --list-examples
  gquic serve --root DIR [--host H] [--port P] [--cert F --key F] [--retry] [--cc C] [--qlog-dir D] [--keylog F] [--quiet]
      An HTTP/3 file server for DIR (GET and HEAD). Without --cert/--key it makes a self-signed
      certificate for localhost. Runs until interrupted (SIGINT/SIGTERM close it gracefully with GOAWAY).
  gquic get URL... [-o FILE | --output-dir DIR] [--ca F | --insecure] [--session-file F]
            [--cipher aes128|aes256|chacha20] [--key-update] [--cc C] [--qlog-dir D] [--keylog F] [--timeout MS] [-v]
      Download over HTTP/3 (several URLs at once, one connection per origin). --session-file keeps TLS
      tickets: the next run resumes and sends its GETs as 0-RTT. Exits 0 only if every download completed.
  gquic --help | --version

Examples:
  gquic inspect --example rfc9001-client-initial
`;

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  try {
    switch (command) {
      case 'inspect':
        return await inspectCommand(rest, io);
      case 'loopback':
        return await loopbackCommand(rest, io);
      case 'serve':
        return await serveCommand(rest, io);
      case 'get':
        return await getCommand(rest, io);
      default:
        io.stderr.write(`gquic: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    io.stderr.write(`gquic ${command}: ${(e as Error).message}\n`);
    // Bad flags are usage errors (2); anything else failed at run time (1).
    return String((e as { code?: unknown }).code ?? '').startsWith('ERR_PARSE_ARGS') ? 2 : 1;
  }
}

async function loopbackCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { mb: { type: 'string', default: '10' }, 'qlog-dir': { type: 'string' }, keylog: { type: 'string' }, help: { type: 'boolean', short: 'h', default: false } },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  const mb = Number(values.mb);
  if (!Number.isFinite(mb) || mb < 0 || mb > 10_000) throw new Error(`--mb wants a number of megabytes (0-10000), got '${values.mb}'`);
  const r = await loopback({ megabytes: mb, ...(values['qlog-dir'] !== undefined ? { qlogDir: values['qlog-dir'] } : {}), ...(values.keylog !== undefined ? { keyLogFile: values.keylog } : {}) });
  io.stdout.write(
    [
      `handshake      ${r.handshakeMs.toFixed(1)} ms (ALPN ${r.alpn}, certificate verified)`,
      `echoed         ${(r.bytes / 1e6).toFixed(1)} MB each way in ${r.seconds.toFixed(2)} s = ${(r.bytes / 1e6 / r.seconds).toFixed(1)} MB/s per direction`,
      `SHA-256        ${r.sha256Match ? 'match' : 'MISMATCH'}`,
      `smoothed RTT   ${r.rttMs.toFixed(2)} ms, cwnd ${(r.cwnd / 1024).toFixed(0)} KiB`,
      `packets        ${r.packetsSent} sent by the client, ${r.packetsLost} lost`,
      '',
    ].join('\n'),
  );
  return r.sha256Match ? 0 : 1;
}

async function inspectCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      file: { type: 'string' },
      example: { type: 'string' },
      payload: { type: 'string' },
      'dcid-length': { type: 'string' },
      json: { type: 'boolean', default: false },
      'list-examples': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(USAGE);
    return 0;
  }
  if (values['list-examples']) {
    for (const [name, ex] of Object.entries(EXAMPLES)) io.stdout.write(`${name.padEnd(26)} ${ex.description}\n`);
    return 0;
  }
  let datagram: string;
  let payload = values.payload;
  let dcidLength = 0;
  if (values.example !== undefined) {
    const ex = EXAMPLES[values.example];
    if (ex === undefined) throw new Error(`no example '${values.example}' (try --list-examples)`);
    datagram = ex.datagram;
    payload ??= ex.payload;
    dcidLength = ex.shortDcidLength ?? 0;
    if (!values.json) io.stdout.write(`${ex.description}\n\n`);
  } else if (values.file !== undefined) {
    datagram = (await readFile(values.file)).toString('hex');
  } else if (positionals[0] !== undefined) {
    datagram = positionals.join('');
  } else {
    io.stderr.write('gquic inspect: give a datagram as HEX, --file FILE or --example NAME\n');
    return 2;
  }
  if (values['dcid-length'] !== undefined) {
    dcidLength = Number(values['dcid-length']);
    if (!Number.isInteger(dcidLength) || dcidLength < 0 || dcidLength > 20) throw new Error('--dcid-length must be 0-20');
  }
  const result = inspect(datagram, payload, dcidLength);
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return 0;
  }
  io.stdout.write(`datagram: ${result.datagramLength} bytes, ${result.packets.length} packet(s)\n`);
  for (const p of result.packets) {
    io.stdout.write(`\npacket at offset ${p.offset}, ${p.length} bytes\n`);
    if (p.error !== undefined) io.stdout.write(`  invalid: ${p.error}\n`);
    for (const [k, v] of Object.entries(p.header)) io.stdout.write(`  ${k}: ${format(v)}\n`);
  }
  if (result.frames !== undefined) {
    io.stdout.write(`\nunprotected payload: ${result.frames.length} frame(s)\n`);
    for (const f of result.frames) io.stdout.write(`  ${format(f)}\n`);
  }
  if (result.transportParameters !== undefined) {
    io.stdout.write('\ntransport parameters (from the TLS handshake message in CRYPTO):\n');
    for (const [k, v] of Object.entries(result.transportParameters)) io.stdout.write(`  ${k}: ${format(v)}\n`);
  }
  return 0;
}

function format(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

const CCS = ['newreno', 'cubic', 'bbr'] as const;

function parseCc(v: string | undefined): (typeof CCS)[number] | undefined {
  if (v === undefined) return undefined;
  if (!(CCS as readonly string[]).includes(v)) throw Object.assign(new Error(`--cc is one of ${CCS.join(', ')}`), { code: 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' });
  return v as (typeof CCS)[number];
}

const SERVE_USAGE = `Usage: gquic serve --root DIR [--host H] [--port P] [--cert F --key F] [--retry] [--cc C] [--qlog-dir D] [--keylog F] [--quiet]
  --root DIR     directory to serve (required)
  --host H       address to bind (default ::, all addresses)
  --port P       UDP port (default 4433)
  --cert F       PEM certificate chain, leaf first (with --key)
  --key F        PEM private key (PKCS#8, SEC1 or PKCS#1)
  --retry        validate client addresses with a Retry first
  --cc C         congestion controller: newreno (default), cubic, bbr
  --qlog-dir D   write a qlog file per connection
  --keylog F     append TLS secrets (SSLKEYLOGFILE format)
  --quiet        no request log
`;

function parsePort(s: string | undefined, fallback: number): number {
  if (s === undefined) return fallback;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port wants 0-65535, got '${s}'`);
  return n;
}

async function serveCommand(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      root: { type: 'string' },
      host: { type: 'string', default: '::' },
      port: { type: 'string' },
      cert: { type: 'string' },
      key: { type: 'string' },
      retry: { type: 'boolean', default: false },
      cc: { type: 'string' },
      'qlog-dir': { type: 'string' },
      keylog: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(SERVE_USAGE);
    return 0;
  }
  if (values.root === undefined) {
    io.stderr.write(`gquic serve: --root is required\n\n${SERVE_USAGE}`);
    return 2;
  }
  const server = await serve({
    root: values.root,
    host: values.host,
    port: parsePort(values.port, 4433),
    ...(values.cert !== undefined ? { certFile: values.cert } : {}),
    ...(values.key !== undefined ? { keyFile: values.key } : {}),
    retry: values.retry,
    ...(values.cc !== undefined ? { cc: parseCc(values.cc)! } : {}),
    ...(values['qlog-dir'] !== undefined ? { qlogDir: values['qlog-dir'] } : {}),
    ...(values.keylog !== undefined ? { keyLogFile: values.keylog } : {}),
    ...(values.quiet ? {} : { log: (l: string) => io.stderr.write(`${l}\n`) }),
  });
  const a = server.address;
  io.stdout.write(`serving ${values.root} over HTTP/3 on ${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    signal?.addEventListener('abort', stop, { once: true });
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close(2000);
  return 0;
}

const GET_USAGE = `Usage: gquic get URL... [-o FILE | --output-dir DIR] [--ca F | --insecure] [--session-file F]
                 [--cipher aes128|aes256|chacha20] [--key-update] [--cc C] [--qlog-dir D] [--keylog F] [--timeout MS] [-v]
  -o FILE            write the body here (one URL); default: standard output
  --output-dir DIR   write each body to DIR/<last path segment> (several URLs)
  --ca F             trust the PEM certificates in F (default: Node's root store)
  --insecure         do not verify the server certificate
  --session-file F   read and write TLS session tickets (resumption and 0-RTT)
  --cipher C         offer only this TLS cipher suite: ${Object.keys(CIPHERS).join(', ')}
  --key-update       update 1-RTT keys once the handshake is done
  --cc C             congestion controller: newreno (default), cubic, bbr
  --qlog-dir D       write a qlog file per connection
  --keylog F         append TLS secrets (SSLKEYLOGFILE format)
  --timeout MS       handshake timeout (default 10000)
  -v                 print each connection's version, resumption and 0-RTT to standard error
`;

async function getCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      'output-dir': { type: 'string' },
      ca: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      'session-file': { type: 'string' },
      cipher: { type: 'string' },
      'key-update': { type: 'boolean', default: false },
      cc: { type: 'string' },
      'qlog-dir': { type: 'string' },
      keylog: { type: 'string' },
      timeout: { type: 'string' },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(GET_USAGE);
    return 0;
  }
  if (positionals.length === 0) {
    io.stderr.write(`gquic get: give at least one URL\n\n${GET_USAGE}`);
    return 2;
  }
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && (!Number.isFinite(timeout) || timeout <= 0)) throw new Error(`--timeout wants milliseconds, got '${values.timeout}'`);
  const { results, connections } = await get({
    urls: positionals,
    ...(values.output !== undefined ? { output: values.output } : {}),
    ...(values['output-dir'] !== undefined ? { outputDir: values['output-dir'] } : {}),
    ...(values.ca !== undefined ? { caFile: values.ca } : {}),
    insecure: values.insecure,
    ...(values['session-file'] !== undefined ? { sessionFile: values['session-file'] } : {}),
    ...(values.cipher !== undefined ? { cipher: values.cipher } : {}),
    keyUpdate: values['key-update'],
    ...(values.cc !== undefined ? { cc: parseCc(values.cc)! } : {}),
    ...(values['qlog-dir'] !== undefined ? { qlogDir: values['qlog-dir'] } : {}),
    ...(values.keylog !== undefined ? { keyLogFile: values.keylog } : {}),
    ...(timeout !== undefined ? { timeoutMs: timeout } : {}),
    stderr: io.stderr as Io['stderr'] & { isTTY?: boolean },
    stdout: io.stdout as NodeJS.WritableStream,
  });
  for (const r of results) if (!r.ok) io.stderr.write(`gquic get: ${r.url}: ${r.error}\n`);
  if (values.verbose) {
    for (const c of connections) {
      io.stderr.write(`${c.origin}: QUIC 0x${c.version.toString(16)}, ${c.resumed ? 'resumed' : 'full handshake'}, 0-RTT ${c.earlyDataAccepted === undefined ? 'not tried' : c.earlyDataAccepted ? `accepted (${c.zeroRttPackets} packets)` : 'rejected'}, ${c.keyUpdates} key updates\n`);
    }
  }
  return results.every((r) => r.ok) ? 0 : 1;
}
