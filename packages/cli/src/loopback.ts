// `gquic loopback`: the whole stack on this machine — a QUIC server and client over UDP on 127.0.0.1 (a
// self-signed localhost certificate made on the fly), one stream carrying N MB each way, then the numbers.

import { createHash } from 'node:crypto';
import { nodeProvider } from '@gquic/crypto';
import { QuicEndpoint } from '@gquic/node';
import { createSelfSignedCertificate, parseCertificate } from '@gquic/tls';

export interface LoopbackOptions {
  megabytes: number;
  qlogDir?: string;
  keyLogFile?: string;
}

export interface LoopbackReport {
  handshakeMs: number;
  alpn: string;
  bytes: number;
  seconds: number;
  sha256Match: boolean;
  rttMs: number;
  cwnd: number;
  packetsSent: number;
  packetsLost: number;
}

export async function loopback(o: LoopbackOptions): Promise<LoopbackReport> {
  const cert = createSelfSignedCertificate({ provider: nodeProvider });
  const common = { ...(o.qlogDir !== undefined ? { qlogDir: o.qlogDir } : {}), ...(o.keyLogFile !== undefined ? { keyLogFile: o.keyLogFile } : {}) };
  await using server = await QuicEndpoint.bind({ host: '127.0.0.1', ...common, server: { tls: { alpn: ['gquic-demo'], certificateChain: [cert.certificate], privateKey: cert.key } } });
  void (async () => {
    for await (const conn of server.connections) {
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void s.readable!.pipeTo(s.writable!).catch(() => undefined);
      })();
    }
  })();
  await using client = await QuicEndpoint.bind({ host: '127.0.0.1', ...common });
  const t0 = performance.now();
  const conn = await client.connect('127.0.0.1', server.address.port, { tls: { alpn: ['gquic-demo'], serverName: 'localhost', ca: [parseCertificate(cert.certificate)] } });
  const handshakeMs = performance.now() - t0;
  const { alpn } = await conn.ready;
  const bytes = Math.round(o.megabytes * 1e6);
  const s = await conn.createBidirectionalStream();
  const sent = createHash('sha256');
  const back = createHash('sha256');
  let received = 0;
  const t1 = performance.now();
  const reading = (async () => {
    const r = s.readable!.getReader();
    for (;;) {
      const { value, done } = await r.read();
      if (done) return;
      back.update(value);
      received += value.length;
    }
  })();
  const w = s.writable!.getWriter();
  const chunk = new Uint8Array(65536);
  for (let at = 0; at < bytes; at += chunk.length) {
    const n = Math.min(chunk.length, bytes - at);
    for (let i = 0; i < n; i += 997) chunk[i] = (at + i) & 0xff;
    const piece = chunk.subarray(0, n);
    sent.update(piece);
    await w.write(piece.slice());
  }
  await w.close();
  await reading;
  const seconds = (performance.now() - t1) / 1000;
  const st = conn.stats();
  await conn.close({ closeCode: 0, reason: 'demo done' });
  return {
    handshakeMs,
    alpn,
    bytes: received,
    seconds,
    sha256Match: sent.digest('hex') === back.digest('hex'),
    rttMs: st.rttUs / 1000,
    cwnd: st.cwnd,
    packetsSent: st.packetsSent,
    packetsLost: st.packetsLost,
  };
}
