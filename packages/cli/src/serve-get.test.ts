// `gquic serve` and `gquic get` against each other over UDP on 127.0.0.1.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Http3Server } from '@gquic/http3';
import { get } from './get.js';
import { main } from './index.js';
import { serve } from './serve.js';

const root = mkdtempSync(join(tmpdir(), 'gquic-www-'));
const out = mkdtempSync(join(tmpdir(), 'gquic-out-'));
const files: Record<string, Buffer> = { 'a.bin': randomBytes(1_500_000), 'b.bin': randomBytes(70_000), 'index.html': Buffer.from('<h1>hi</h1>\n') };
let server: Http3Server;
let base: string;
const sink = { write: (): boolean => true };

beforeAll(async () => {
  for (const [n, b] of Object.entries(files)) writeFileSync(join(root, n), b);
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'index.html'), 'sub index\n');
  symlinkSync('/etc', join(root, 'escape'));
  server = await serve({ root, host: '127.0.0.1', port: 0 });
  base = `https://127.0.0.1:${server.address.port}`;
});

afterAll(async () => {
  await server.close(100);
});

describe('gquic serve + gquic get', () => {
  it('downloads several files at once, byte-exact, over one connection', async () => {
    const { results, connections } = await get({ urls: [`${base}/a.bin`, `${base}/b.bin`, `${base}/`], outputDir: out, insecure: true, stderr: sink, stdout: sink });
    expect(results.every((r) => r.ok)).toBe(true);
    expect(readFileSync(join(out, 'a.bin')).equals(files['a.bin']!)).toBe(true);
    expect(readFileSync(join(out, 'b.bin')).equals(files['b.bin']!)).toBe(true);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toBe('<h1>hi</h1>\n');
    expect(connections).toHaveLength(1);
  });

  it('a session file makes the next run resume with 0-RTT; --cipher and --key-update apply', async () => {
    const sessionFile = join(out, 'session.json');
    const first = await get({ urls: [`${base}/b.bin`], output: join(out, 'b1'), insecure: true, sessionFile, stderr: sink, stdout: sink });
    expect(first.connections[0]).toMatchObject({ resumed: false });
    const second = await get({ urls: [`${base}/b.bin`], output: join(out, 'b2'), insecure: true, sessionFile, stderr: sink, stdout: sink });
    expect(second.results[0]!.ok).toBe(true);
    expect(second.connections[0]).toMatchObject({ resumed: true, earlyDataAccepted: true });
    expect(readFileSync(join(out, 'b2')).equals(files['b.bin']!)).toBe(true);
    const chacha = await get({ urls: [`${base}/a.bin`], output: join(out, 'a2'), insecure: true, cipher: 'chacha20', keyUpdate: true, stderr: sink, stdout: sink });
    expect(chacha.results[0]!.ok).toBe(true);
    expect(chacha.connections[0]!.keyUpdates).toBeGreaterThanOrEqual(1);
    expect(readFileSync(join(out, 'a2')).equals(files['a.bin']!)).toBe(true);
  });

  it('404 for missing files and for paths that leave the root; directories serve index.html', async () => {
    const { results } = await get({ urls: [`${base}/missing`, `${base}/../../etc/passwd`, `${base}/escape/passwd`, `${base}/sub/`], outputDir: out, insecure: true, stderr: sink, stdout: sink });
    expect(results.map((r) => r.status)).toEqual([404, 404, 404, 200]);
    expect(results.map((r) => r.ok)).toEqual([false, false, false, true]);
  });

  it('exit codes: 0 when all downloads completed, 1 otherwise, 2 for usage errors; certificate failures are named', async () => {
    const err: string[] = [];
    const io = { stdout: sink, stderr: { write: (s: string) => err.push(s) } };
    expect(await main(['get', `${base}/b.bin`, '--insecure', '-o', join(out, 'b3')], io)).toBe(0);
    expect(await main(['get', `${base}/nope`, '--insecure', '-o', join(out, 'n')], io)).toBe(1);
    expect(await main(['get', `${base}/b.bin`, '-o', join(out, 'n')], io)).toBe(1);
    expect(err.join('')).toMatch(/certificate check failed/);
    expect(await main(['get', '--no-such-flag'], io)).toBe(2);
    expect(await main(['get', `${base}/b.bin`, '--insecure', '--cc', 'nope', '-o', join(out, 'n')], io)).toBe(2);
    expect(await main(['get', `${base}/a.bin`, '--insecure', '--cc', 'bbr', '-o', join(out, 'a3')], io)).toBe(0);
    expect(readFileSync(join(out, 'a3')).equals(files['a.bin']!)).toBe(true);
    expect(await main(['get'], io)).toBe(2);
    expect(await main(['get', 'https://127.0.0.1:9/', '--insecure', '--timeout', '300', '-o', join(out, 'n')], io)).toBe(1);
    expect(err.join('')).toMatch(/cannot reach the server/);
    expect(await main(['serve'], io)).toBe(2);
  });
});
