// The gquic command line. Subcommands are small modules; `main` only dispatches.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { EXAMPLES } from './examples.js';
import { inspect } from './inspect.js';
import { loopback } from './loopback.js';

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
      default:
        io.stderr.write(`gquic: unknown command '${command}'\n\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    io.stderr.write(`gquic ${command}: ${(e as Error).message}\n`);
    return 1;
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
