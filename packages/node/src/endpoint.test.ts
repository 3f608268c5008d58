import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { createTestPki } from '@gquic/testkit';
import { AntiReplay, TicketKeyRing } from '@gquic/tls';
import { QuicEndpoint } from './endpoint.js';
import type { QuicConnection } from './connection.js';
import type { QuicStream } from './stream.js';

const pki = createTestPki(nodeProvider, Date.now());
const leaf = pki.leaf('P-256', { names: ['localhost'], ips: [Uint8Array.of(127, 0, 0, 1), new Uint8Array(16).fill(0).map((_, i) => (i === 15 ? 1 : 0))] });
const ALPN = ['gquic-test'];

async function echoServer(host: string, extra: { preferredAddress?: { host: string } } = {}): Promise<QuicEndpoint> {
  const server = await QuicEndpoint.bind({ host, server: { tls: { alpn: ALPN, certificateChain: leaf.chain, privateKey: leaf.key } }, ...extra });
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

describe('observability', () => {
  it('writes a qlog (JSON-SEQ) per connection and an SSLKEYLOGFILE', async () => {
    const { mkdtempSync, readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'gquic-qlog-'));
    const keyLogFile = join(dir, 'keys.log');
    {
      await using server = await QuicEndpoint.bind({ host: '127.0.0.1', qlogDir: dir, server: { tls: { alpn: ALPN, certificateChain: leaf.chain, privateKey: leaf.key } } });
      void (async () => {
        for await (const conn of server.connections) void (async () => { for await (const s of conn.incomingBidirectionalStreams) void s.readable!.pipeTo(s.writable!).catch(() => undefined); })();
      })();
      await using client = await QuicEndpoint.bind({ host: '127.0.0.1', qlogDir: dir, keyLogFile });
      const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ALPN, serverName: 'localhost', ca: pki.roots } });
      const s = await conn.createBidirectionalStream();
      const reading = readAll(s);
      const w = s.writable!.getWriter();
      await w.write(new Uint8Array(3000));
      await w.close();
      expect((await reading).length).toBe(3000);
      await conn.close({ closeCode: 0 });
    }
    const files = readdirSync(dir).filter((f) => f.endsWith('.sqlog')).sort();
    expect(files.map((f) => f.split('_')[1])).toEqual(['client.sqlog', 'server.sqlog']);
    for (const f of files) {
      const records = readFileSync(join(dir, f), 'utf8').split('\u001e').filter((r) => r.length > 0).map((r) => JSON.parse(r));
      expect(records[0]).toMatchObject({ file_schema: 'urn:ietf:params:qlog:file:sequential', serialization_format: 'application/qlog+json-seq' });
      const names = new Set(records.slice(1).map((r) => r.name));
      for (const n of ['quic:packet_sent', 'quic:packet_received', 'quic:recovery_metrics_updated', 'quic:key_updated']) expect(names).toContain(n);
      const rx = records.find((r) => r.name === 'quic:packet_received' && r.data.frames.some((x: { frame_type: string }) => x.frame_type === 'stream'));
      expect(rx.data.header.packet_type).toBe('1RTT');
      expect(records.every((r, i) => i === 0 || typeof r.time === 'number')).toBe(true);
    }
    const client = records(files[0]!);
    expect(client.some((r) => r.name === 'quic:connection_closed')).toBe(true);
    const lines = readFileSync(keyLogFile, 'utf8').trim().split('\n');
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['SERVER_HANDSHAKE_TRAFFIC_SECRET', 'CLIENT_HANDSHAKE_TRAFFIC_SECRET', 'SERVER_TRAFFIC_SECRET_0', 'CLIENT_TRAFFIC_SECRET_0', 'EXPORTER_SECRET']);
    for (const l of lines) expect(l).toMatch(/^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]{64}$/);

    function records(f: string): Array<{ name: string }> {
      return readFileSync(join(dir, f), 'utf8').split('\u001e').filter((r) => r.length > 0).map((r) => JSON.parse(r));
    }
  });
});

describe('datagrams through the Node API', () => {
  it('sends and receives DATAGRAMs as a readable/writable pair', async () => {
    await using server = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls: { alpn: ALPN, certificateChain: leaf.chain, privateKey: leaf.key } } });
    void (async () => {
      for await (const conn of server.connections) {
        // Echo datagrams back.
        void conn.datagrams.readable.pipeTo(conn.datagrams.writable).catch(() => undefined);
      }
    })();
    await using client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ALPN, serverName: 'localhost', ca: pki.roots } });
    expect(conn.datagrams.maxDatagramSize).toBeGreaterThan(1000);
    const w = conn.datagrams.writable.getWriter();
    const r = conn.datagrams.readable.getReader();
    const got = new Set<number>();
    for (let i = 0; i < 20; i++) await w.write(Uint8Array.of(i, 1, 2, 3));
    while (got.size < 20) got.add((await r.read()).value![0]!);
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    await conn.close();
  });
});

describe('client migration through the Node API', () => {
  it('moves a connection to a new local socket; the server follows and streams keep working', async () => {
    await using server = await echoServer('127.0.0.1');
    await using client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ALPN, serverName: 'localhost', ca: pki.roots } });
    const echo = async (n: number): Promise<number> => {
      const s = await conn.createBidirectionalStream();
      const reading = readAll(s);
      const w = s.writable!.getWriter();
      await w.write(new Uint8Array(n));
      await w.close();
      return (await reading).length;
    };
    expect(await echo(10_000)).toBe(10_000);
    // Wait for the server's spare connection IDs, then move.
    for (let i = 0; i < 100 && conn.core.peerCids.active.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await conn.migrate();
    expect(await echo(200_000)).toBe(200_000);
    expect(conn.core.migrations).toBe(1);
    expect(conn.core.peerCids.current.seq).toBeGreaterThan(0);
  });
});

describe("the server's preferred address through the Node API", () => {
  it('a second socket is offered; the client validates it, moves there and is answered from it', async () => {
    await using server = await echoServer('127.0.0.1', { preferredAddress: { host: '127.0.0.1' } });
    const preferred = server.preferredAddress!;
    expect(preferred.port).not.toBe(server.address.port);
    await using client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ALPN, serverName: 'localhost', ca: pki.roots } });
    for (let i = 0; i < 200 && !conn.core.usingPreferredAddress; i++) await new Promise((r) => setTimeout(r, 5));
    expect(conn.core.usingPreferredAddress).toBe(true);
    expect(conn.core.peerAddress).toEqual({ address: '127.0.0.1', port: preferred.port });
    const s = await conn.createBidirectionalStream();
    const reading = readAll(s);
    const w = s.writable!.getWriter();
    await w.write(new Uint8Array(300_000).fill(5));
    await w.close();
    expect((await reading).length).toBe(300_000);
    await expect(QuicEndpoint.bind({ host: '127.0.0.1', preferredAddress: { host: '127.0.0.1' } })).rejects.toThrow(/for servers/);
  });
});

describe('resumption and 0-RTT through the Node API', () => {
  it('connect() resolves at once with a session; a stream opened then goes out as 0-RTT and is accepted', async () => {
    const tls = { alpn: ALPN, certificateChain: leaf.chain, privateKey: leaf.key, ticketKeys: new TicketKeyRing(nodeProvider), antiReplay: new AntiReplay(), earlyData: true };
    await using server = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls } });
    const earlyBytes: number[] = [];
    void (async () => {
      for await (const conn of server.connections) {
        void (async () => {
          for await (const s of conn.incomingBidirectionalStreams) {
            earlyBytes.push(conn.core.handshakeComplete ? 0 : 1);
            void s.readable!.pipeTo(s.writable!).catch(() => undefined);
          }
        })();
      }
    })();
    const clientTls = { alpn: ALPN, serverName: 'localhost', ca: pki.roots };
    await using client = await QuicEndpoint.bind({ host: '127.0.0.1' });
    const first = await client.connect('127.0.0.1', server.address.port, { tls: clientTls });
    for (let i = 0; i < 100 && first.session === undefined; i++) await new Promise((r) => setTimeout(r, 5));
    const session = first.session!;
    expect(session).toBeDefined();
    await first.close();
    const conn = await client.connect('127.0.0.1', server.address.port, { tls: { ...clientTls, session, earlyData: true } });
    expect(conn.core.handshakeComplete).toBe(false);
    const s = await conn.createBidirectionalStream();
    const reading = readAll(s);
    const w = s.writable!.getWriter();
    await w.write(new Uint8Array(3000).fill(7));
    await w.close();
    expect((await reading).length).toBe(3000);
    expect(await conn.ready).toMatchObject({ resumed: true });
    expect(conn.core.earlyDataAccepted).toBe(true);
    expect(conn.core.stats().zeroRttPacketsSent).toBeGreaterThan(0);
    expect(earlyBytes).toEqual([1]); // the server saw the stream before its handshake completed
  });
});
