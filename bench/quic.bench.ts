// QUIC on loopback, gquic beside quiche (@matrixai/quic) measured in the same run: goodput of one bulk
// stream (client → server, GQUIC_BENCH_MB megabytes, default 100) and 64-byte request/response round trips
// over an established connection (p50/p99). Client and server share one process, as in quiche's example.

import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { QUICClient, QUICServer, events, type QUICConnection as QuicheConnection, type QUICStream as QuicheStream } from '@matrixai/quic';
import { nodeProvider, toPem } from '@gquic/crypto';
import { QuicEndpoint } from '@gquic/node';
import { createSelfSignedCertificate, parseCertificate } from '@gquic/tls';

const MB = Number(process.env['GQUIC_BENCH_MB'] ?? 100);
const PINGS = Number(process.env['GQUIC_BENCH_PINGS'] ?? 2000);
const ALPN = 'gquic-bench';
const cert = createSelfSignedCertificate({ provider: nodeProvider });
const roots = [parseCertificate(cert.certificate)];

interface Streams {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

interface Result {
  stack: string;
  handshakeMs: number;
  goodputMBps: number;
  rttP50Us: number;
  rttP99Us: number;
}

/** Sends `bytes` on a stream to a sink server; returns MB/s once the server read the last byte. */
async function bulk(open: () => Promise<Streams>, bytes: number): Promise<number> {
  const s = await open();
  const w = s.writable.getWriter();
  const reading = (async () => {
    const r = s.readable.getReader();
    for (;;) {
      const { done } = await r.read();
      if (done) return;
    }
  })();
  const chunk = new Uint8Array(64 * 1024);
  const t0 = performance.now();
  for (let sent = 0; sent < bytes; sent += chunk.length) await w.write(chunk);
  await w.close();
  await reading; // the server closes its side after reading everything
  return bytes / 1e6 / ((performance.now() - t0) / 1000);
}

/** 64-byte request/response round trips on one stream; returns [p50, p99] in µs. */
async function pingPong(open: () => Promise<Streams>, n: number): Promise<[number, number]> {
  const s = await open();
  const w = s.writable.getWriter();
  const r = s.readable.getReader();
  const msg = new Uint8Array(64);
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await w.write(msg);
    let got = 0;
    while (got < 64) {
      const { value, done } = await r.read();
      if (done) throw new Error('stream ended');
      got += value.length;
    }
    lat.push((performance.now() - t) * 1000);
  }
  await w.close();
  lat.sort((a, b) => a - b);
  return [lat[Math.floor(n * 0.5)]!, lat[Math.floor(n * 0.99)]!];
}

/** A server stream handler: stream 0 echoes (ping-pong); others are sinks that close their side at the end. */
async function serve(s: Streams, echo: boolean): Promise<void> {
  const r = s.readable.getReader();
  const w = s.writable.getWriter();
  for (;;) {
    const { value, done } = await r.read();
    if (done) break;
    if (echo) await w.write(value);
  }
  await w.close();
}

export async function benchGquic(): Promise<Result> {
  const server = await QuicEndpoint.bind({ host: '127.0.0.1', server: { tls: { alpn: [ALPN], certificateChain: [cert.certificate], privateKey: cert.key } } });
  void (async () => {
    for await (const conn of server.connections) {
      void (async () => {
        let n = 0;
        for await (const s of conn.incomingBidirectionalStreams) void serve(s as Streams, n++ === 0).catch(() => undefined);
      })();
    }
  })();
  const client = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const t0 = performance.now();
  const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: [ALPN], serverName: 'localhost', ca: roots } });
  const handshakeMs = performance.now() - t0;
  const open = async (): Promise<Streams> => (await conn.createBidirectionalStream()) as Streams;
  const [p50, p99] = await pingPong(open, PINGS);
  const goodput = await bulk(open, MB * 1e6);
  if (process.env['GQUIC_BENCH_STATS'] !== undefined) console.log(conn.stats());
  await client.close(100);
  await server.close(100);
  return { stack: 'gquic', handshakeMs, goodputMBps: goodput, rttP50Us: p50, rttP99Us: p99 };
}

async function benchQuiche(): Promise<Result> {
  const key = randomFillSync(new Uint8Array(32));
  const sign = async (k: ArrayBuffer, d: ArrayBuffer): Promise<ArrayBuffer> => {
    const m = createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest();
    return m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength);
  };
  const server = new QUICServer({
    crypto: { key: key.buffer, ops: { sign, verify: async (k, d, s) => timingSafeEqual(Buffer.from(await sign(k, d)), Buffer.from(s)) } },
    config: { key: toPem('PRIVATE KEY', cert.key.pkcs8), cert: toPem('CERTIFICATE', cert.certificate), verifyPeer: false, applicationProtos: [ALPN] },
  });
  server.addEventListener(events.EventQUICServerConnection.name, (ev: Event) => {
    const conn = (ev as unknown as { detail: QuicheConnection }).detail;
    let n = 0;
    conn.addEventListener(events.EventQUICConnectionStream.name, (sev: Event) => {
      void serve((sev as unknown as { detail: QuicheStream }).detail as unknown as Streams, n++ === 0).catch(() => undefined);
    });
  });
  await server.start({ host: '127.0.0.1', port: 0 });
  const t0 = performance.now();
  const client = await QUICClient.createQUICClient({
    host: '127.0.0.1',
    port: server.port,
    crypto: { ops: { randomBytes: async (d: ArrayBuffer) => void randomFillSync(new Uint8Array(d)) } },
    config: { verifyPeer: false, applicationProtos: [ALPN] },
  });
  const handshakeMs = performance.now() - t0;
  const open = async (): Promise<Streams> => client.connection.newStream() as unknown as Streams;
  const [p50, p99] = await pingPong(open, PINGS);
  const goodput = await bulk(open, MB * 1e6);
  await client.destroy({ force: true });
  await server.stop({ force: true });
  return { stack: 'quiche (@matrixai/quic)', handshakeMs, goodputMBps: goodput, rttP50Us: p50, rttP99Us: p99 };
}

export async function benchQuic(): Promise<Result[]> {
  const ours = await benchGquic();
  const theirs = await benchQuiche();
  const rows = [ours, theirs].map((r) => ({
    stack: r.stack,
    'handshake ms': +r.handshakeMs.toFixed(1),
    [`goodput MB/s (${MB} MB, one stream)`]: +r.goodputMBps.toFixed(1),
    '64 B RTT p50 µs': Math.round(r.rttP50Us),
    '64 B RTT p99 µs': Math.round(r.rttP99Us),
  }));
  console.log('\nQUIC on loopback, client and server in one process');
  console.table(rows);
  console.log(
    `ratios gquic/quiche: goodput ${(ours.goodputMBps / theirs.goodputMBps).toFixed(2)}x, RTT p50 ${(ours.rttP50Us / theirs.rttP50Us).toFixed(2)}x, p99 ${(ours.rttP99Us / theirs.rttP99Us).toFixed(2)}x`,
  );
  return [ours, theirs];
}
