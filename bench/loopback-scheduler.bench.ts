// Scenario 1 of docs/performance.md on real sockets: container-style 200-byte requests with 200-byte replies
// (a Critical stream each, 50/s) on a connection that also carries a bulk upload (GQUIC_BENCH_MB, default 100 MB),
// over UDP on 127.0.0.1. Our scheduler against FIFO, in the same run, same process. Reports request RTT p50/p99.

import { nodeProvider } from '@gquic/crypto';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import { congestionControl, type CongestionControlName } from '@gquic/quic';
import { PriorityClass, type SchedulerMode } from '@gquic/scheduler';
import { createSelfSignedCertificate, parseCertificate } from '@gquic/tls';

const cert = createSelfSignedCertificate({ provider: nodeProvider });
const ALPN = ['gquic-bench'];

interface Result {
  mode: SchedulerMode;
  cc: CongestionControlName;
  requests: number;
  p50: number;
  p99: number;
  bulkMBps: number;
}

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
}

async function run(mode: SchedulerMode, cc: CongestionControlName, megabytes: number): Promise<Result> {
  // BBR keeps the queues (socket buffers here) short; with a loss-based controller they fill and every packet, however
  // urgent, waits behind megabytes in the kernel, whatever the scheduler does (see docs/performance.md).
  const transport = { scheduler: { mode }, congestionController: congestionControl(cc) };
  await using server = await QuicEndpoint.bind({ host: '127.0.0.1', transport, server: { tls: { alpn: ALPN, certificateChain: [cert.certificate], privateKey: cert.key } } });
  void (async () => {
    for await (const conn of server.connections) {
      // Requests: echo each on its own bidirectional stream, classed Critical; the upload is drained.
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) {
          conn.core.setStreamClass(s.id, PriorityClass.Critical);
          void s.readable!.pipeTo(s.writable!).catch(() => undefined);
        }
      })();
      void (async () => {
        for await (const s of conn.incomingUnidirectionalStreams) void s.readable!.pipeTo(new WritableStream()).catch(() => undefined);
      })();
    }
  })();
  await using client = await QuicEndpoint.bind({ host: '127.0.0.1', transport });
  const conn: QuicConnection = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ALPN, serverName: 'localhost', ca: [parseCertificate(cert.certificate)] } });
  const bulk = await conn.createUnidirectionalStream();
  conn.core.setStreamClass(bulk.id, PriorityClass.Bulk);
  const t0 = performance.now();
  let done = false;
  const uploading = (async () => {
    const w = bulk.writable!.getWriter();
    const chunk = new Uint8Array(1 << 20);
    for (let i = 0; i < megabytes; i++) await w.write(chunk);
    await w.close();
    done = true;
  })();
  const rtts: number[] = [];
  while (!done && rtts.length < 500) {
    const start = performance.now();
    const s = await conn.createBidirectionalStream();
    conn.core.setStreamClass(s.id, PriorityClass.Critical);
    const w = s.writable!.getWriter();
    const reading = (async () => {
      let n = 0;
      for await (const c of s.readable! as unknown as AsyncIterable<Uint8Array>) n += c.length;
      return n;
    })();
    await w.write(new Uint8Array(200));
    await w.close();
    await reading;
    rtts.push(performance.now() - start);
    const wait = 20 - (performance.now() - start);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await uploading;
  const seconds = (performance.now() - t0) / 1000;
  await conn.close();
  return { mode, cc, requests: rtts.length, p50: pct(rtts, 0.5), p99: pct(rtts, 0.99), bulkMBps: megabytes / seconds };
}

export async function benchLoopbackScheduler(): Promise<Result[]> {
  const mb = Number(process.env['GQUIC_BENCH_MB'] ?? 100);
  const results: Result[] = [];
  for (const cc of ['bbr', 'newreno'] as const) for (const mode of ['priority', 'fifo'] as const) results.push(await run(mode, cc, mb));
  console.log(`\nScenario 1 on loopback: 200-byte requests + replies beside a ${mb} MB upload, one connection`);
  console.table(results.map((r) => ({ scheduler: r.mode, controller: r.cc, requests: r.requests, 'p50 ms': +r.p50.toFixed(2), 'p99 ms': +r.p99.toFixed(2), 'upload MB/s': +r.bulkMBps.toFixed(1) })));
  for (const cc of ['bbr', 'newreno'] as const) {
    const ours = results.find((r) => r.cc === cc && r.mode === 'priority')!;
    const fifo = results.find((r) => r.cc === cc && r.mode === 'fifo')!;
    console.log(`${cc}: FIFO / ours: p50 ${(fifo.p50 / ours.p50).toFixed(1)}x, p99 ${(fifo.p99 / ours.p99).toFixed(1)}x`);
  }
  return results;
}
