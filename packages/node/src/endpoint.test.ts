import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { createTestPki } from '@gquic/testkit';
import { QuicEndpoint } from './endpoint.js';
import type { QuicConnection } from './connection.js';
import type { QuicStream } from './stream.js';

const pki = createTestPki(nodeProvider, Date.now());
const leaf = pki.leaf('P-256', { names: ['localhost'], ips: [Uint8Array.of(127, 0, 0, 1), new Uint8Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0))] });
const ALPN = ['gquic-test'];

async function echoServer(host: string): Promise<QuicEndpoint> {
  const server = await QuicEndpoint.bind({ host, server: { tls: { alpn: ALPN, certificateChain: leaf.chain, privateKey: leaf.key } } });
  void (async () => {
    for await (const conn of server.connections) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void s.readable!.pipeTo(s.writable!).catch(() => undefined);
      })();
    }
  })();
  return server;
}

async function readAll(s: QuicStream): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const c of s.readable! as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe.each(['127.0.0.1', '::1'])('QuicEndpoint on node:dgram over %s', (host) => {
  it('connects, echoes a stream through Web Streams, and closes with an application code', async () => {
    await using server = await echoServer(host);
    await using client = await QuicEndpoint.bind({ host });
    const conn: QuicConnection = await client.connect(host, server.address.port, { tls: { alpn: ALPN, serverName: host, ca: pki.roots } });
    const s = await conn.createBidirectionalStream();
    const data = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
    const reading = readAll(s);
    const w = s.writable!.getWriter();
    for (let at = 0; at < data.length; at += 50_000) await w.write(data.subarray(at, at + 50_000));
    await w.close();
    const echoed = await reading;
    expect(Buffer.from(echoed).equals(data)).toBe(true);
    const st = conn.stats();
    expect(st.bytesReceived).toBeGreaterThan(data.length);
    expect(st.rttUs).toBeGreaterThan(0);
    const info = await conn.close({ closeCode: 7, reason: 'done' });
    expect(info).toMatchObject({ errorCode: 7, isApplication: true, byPeer: false });
  });
});

describe('QuicEndpoint options', () => {
  it('aborts a connect with an AbortSignal', async () => {
    await using client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const ac = new AbortController();
    // Nobody listens on this port: the handshake cannot complete.
    const p = client.connect('127.0.0.1', 9, { tls: { alpn: ALPN, serverName: 'localhost', ca: pki.roots } }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeDefined();
  });
});
