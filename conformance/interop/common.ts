// Shared pieces of the interop cases: a test PKI written as PEM files, hashing, and the result type.

import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeProvider, toPem } from '@gquic/crypto';
import { createTestPki } from '@gquic/testkit';

export type Outcome = 'pass' | 'fail' | 'unsupported';

export interface InteropCase {
  peer: string;
  /** Our role. */
  role: 'client' | 'server';
  name: string;
  /** Resolves on success; throws on failure; `Unsupported` for cases the peer cannot run. */
  run(): Promise<void>;
}

export class Unsupported extends Error {}

const pki = createTestPki(nodeProvider, Date.now(), 'gquic interop CA');
const leaf = pki.leaf('P-256', { names: ['localhost'], ips: [Uint8Array.of(127, 0, 0, 1)] });
const dir = mkdtempSync(join(tmpdir(), 'gquic-interop-'));
writeFileSync(join(dir, 'cert.pem'), toPem('CERTIFICATE', leaf.chain[0]!) + toPem('CERTIFICATE', leaf.chain[1]!));
writeFileSync(join(dir, 'key.pem'), toPem('PRIVATE KEY', leaf.key.pkcs8));
writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', pki.ca));

export const INTEROP_PKI = {
  roots: pki.roots,
  chain: leaf.chain,
  key: leaf.key,
  dir,
  certPem: join(dir, 'cert.pem'),
  keyPem: join(dir, 'key.pem'),
  caPem: join(dir, 'ca.pem'),
};

export function sha256(chunks: Iterable<Uint8Array>): string {
  const h = createHash('sha256');
  for (const c of chunks) h.update(c);
  return h.digest('hex');
}

/** Deterministic bytes (xorshift), so both ends can hash what they expect. */
export function pattern(n: number, seed = 1): Uint8Array {
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

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const r = readable.getReader();
  for (;;) {
    const { value, done } = await r.read();
    if (done) return out;
    out.push(value);
  }
}

export async function writeAll(writable: WritableStream<Uint8Array>, data: Uint8Array, chunk = 65536): Promise<void> {
  const w = writable.getWriter();
  for (let at = 0; at < data.length; at += chunk) await w.write(data.subarray(at, at + chunk));
  await w.close();
}
