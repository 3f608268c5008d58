// Interop cases against Cloudflare quiche through @matrixai/quic (raw QUIC streams, no HTTP/3), both roles.

import { createHmac, randomFillSync, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { QUICClient, QUICServer, events, type QUICConnection as QuicheConnection, type QUICStream as QuicheStream } from '@matrixai/quic';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import type { TransportConfig } from '@gquic/quic';
import { INTEROP_PKI, pattern, readAll, sha256, withTimeout, writeAll, type InteropCase } from './common.js';

const ALPN = 'gquic-interop';
const BIG = 10 * 1024 * 1024;

const hmacKey = randomFillSync(new Uint8Array(32));
const serverCrypto = {
  key: hmacKey.buffer,
  ops: {
    async sign(k: ArrayBuffer, d: ArrayBuffer): Promise<ArrayBuffer> {
      const mac = createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest();
      return mac.buffer.slice(mac.byteOffset, mac.byteOffset + mac.byteLength);
    },
    async verify(k: ArrayBuffer, d: ArrayBuffer, s: ArrayBuffer): Promise<boolean> {
      const mac = createHmac('sha256', Buffer.from(k)).update(Buffer.from(d)).digest();
      return mac.length === s.byteLength && timingSafeEqual(mac, Buffer.from(s));
    },
  },
};
const clientCrypto = {
  ops: {
    async randomBytes(d: ArrayBuffer): Promise<void> {
      randomFillSync(new Uint8Array(d));
    },
  },
};

type Close = { isApp: boolean; errorCode: number };

/**
 * The native quiche connection inside @matrixai/quic, for DATAGRAM: the wrapper enables them (`enableDgram`)
 * but has no public API to send or receive them, so the cases reach its quiche handle.
 */
interface NativeDgram {
  conn: { dgramSend(d: Uint8Array): void | null; dgramRecvVec(): Uint8Array | null; dgramMaxWritableLen(): number | null };
  send(): Promise<void>;
}

/** A quiche echo server; records how each connection was closed; echoes DATAGRAMs when `echoDatagrams`. */
async function quicheServer(echoDatagrams = false): Promise<{ port: number; closes: Close[]; stop(): Promise<void> }> {
  const closes: Close[] = [];
  const conns: NativeDgram[] = [];
  const pump = echoDatagrams
    ? setInterval(() => {
        for (const c of conns) {
          let echoed = false;
          for (let d = c.conn.dgramRecvVec(); d !== null; d = c.conn.dgramRecvVec()) {
            c.conn.dgramSend(d);
            echoed = true;
          }
          if (echoed) void c.send().catch(() => undefined);
        }
      }, 2)
    : undefined;
  const server = new QUICServer({
    crypto: serverCrypto,
    config: {
      key: readFileSync(INTEROP_PKI.keyPem, 'utf8'),
      cert: readFileSync(INTEROP_PKI.certPem, 'utf8'),
      verifyPeer: false,
      applicationProtos: [ALPN],
      maxIdleTimeout: 30_000,
      ...(echoDatagrams ? { enableDgram: [true, 1000, 1000] as [boolean, number, number] } : {}),
    },
  });
  server.addEventListener(events.EventQUICServerConnection.name, (ev: Event) => {
    const conn = (ev as unknown as { detail: QuicheConnection }).detail;
    conns.push(conn as unknown as NativeDgram);
    conn.addEventListener(events.EventQUICConnectionError.name, (e: Event) => {
      const d = (e as unknown as { detail: { data?: Close } }).detail.data;
      if (d !== undefined) closes.push({ isApp: d.isApp, errorCode: d.errorCode });
    });
    conn.addEventListener(events.EventQUICConnectionStream.name, (sev: Event) => {
      const s = (sev as unknown as { detail: QuicheStream }).detail;
      void s.readable.pipeTo(s.writable).catch(() => undefined);
    });
  });
  await server.start({ host: '127.0.0.1', port: 0 });
  return {
    port: server.port,
    closes,
    stop: async () => {
      if (pump !== undefined) clearInterval(pump);
      await server.stop({ force: true });
    },
  };
}

async function ourClient(port: number, transport: Partial<TransportConfig> = {}): Promise<{ ep: QuicEndpoint; conn: QuicConnection }> {
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1', transport });
  const conn = await withTimeout(ep.connect('127.0.0.1', port, { tls: { alpn: [ALPN], serverName: 'localhost', ca: INTEROP_PKI.roots } }), 10_000, 'handshake with quiche');
  return { ep, conn };
}

async function ourEchoServer(transport: Partial<TransportConfig> = {}, echoDatagrams = false, retry = false): Promise<{ ep: QuicEndpoint; conns: QuicConnection[] }> {
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1', transport, server: { retry, tls: { alpn: [ALPN], certificateChain: INTEROP_PKI.chain, privateKey: INTEROP_PKI.key } } });
  const conns: QuicConnection[] = [];
  void (async () => {
    for await (const conn of ep.connections) {
      conns.push(conn);
      if (echoDatagrams) void conn.datagrams.readable.pipeTo(conn.datagrams.writable).catch(() => undefined);
      void (async () => {
        for await (const s of conn.incomingBidirectionalStreams) void s.readable!.pipeTo(s.writable!).catch(() => undefined);
      })();
    }
  })();
  return { ep, conns };
}

async function quicheClient(port: number, datagrams = false): Promise<QUICClient> {
  return withTimeout(
    QUICClient.createQUICClient({
      host: '127.0.0.1',
      port,
      serverName: 'localhost',
      crypto: clientCrypto,
      config: {
        verifyPeer: true,
        ca: readFileSync(INTEROP_PKI.caPem, 'utf8'),
        applicationProtos: [ALPN],
        maxIdleTimeout: 30_000,
        ...(datagrams ? { enableDgram: [true, 1000, 1000] as [boolean, number, number] } : {}),
      },
    }),
    10_000,
    'quiche client handshake',
  );
}

/** Echo `data` through a stream opened with `open`; checks SHA-256 of what comes back. */
async function echoThrough(stream: { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }, data: Uint8Array): Promise<void> {
  const reading = readAll(stream.readable);
  await writeAll(stream.writable, data);
  const back = await reading;
  const got = sha256(back);
  const want = sha256([data]);
  if (got !== want) throw new Error(`SHA-256 mismatch: ${back.reduce((n, c) => n + c.length, 0)} bytes back of ${data.length}`);
}

export const quicheCases: InteropCase[] = [
  {
    peer: 'quiche',
    role: 'client',
    name: 'handshake',
    async run() {
      const srv = await quicheServer();
      try {
        const { ep, conn } = await ourClient(srv.port);
        if ((await conn.ready).alpn !== ALPN) throw new Error('ALPN');
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'client',
    name: '10 MB each direction (SHA-256)',
    async run() {
      const srv = await quicheServer();
      try {
        const { ep, conn } = await ourClient(srv.port);
        const s = await conn.createBidirectionalStream();
        await withTimeout(echoThrough({ readable: s.readable!, writable: s.writable! }, pattern(BIG, 3)), 120_000, 'echo 10 MB');
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'client',
    name: '100 concurrent streams',
    async run() {
      const srv = await quicheServer();
      try {
        const { ep, conn } = await ourClient(srv.port);
        const streams = await Promise.all(Array.from({ length: 100 }, () => conn.createBidirectionalStream()));
        await withTimeout(Promise.all(streams.map((s, i) => echoThrough({ readable: s.readable!, writable: s.writable! }, pattern(2000 + i, i + 1)))), 60_000, '100 streams');
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'client',
    name: 'close with an application code',
    async run() {
      const srv = await quicheServer();
      try {
        const { ep, conn } = await ourClient(srv.port);
        // A round trip first: @matrixai/quic ignores a close that arrives while its wrapper is still finishing
        // its own handshake bookkeeping (seen here: an immediate close after our handshake goes unreported).
        const s = await conn.createBidirectionalStream();
        await echoThrough({ readable: s.readable!, writable: s.writable! }, pattern(100, 9));
        await conn.close({ closeCode: 0x2a, reason: 'done' });
        for (let i = 0; i < 100 && srv.closes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
        const c = srv.closes[0];
        if (c === undefined || !c.isApp || c.errorCode !== 0x2a) throw new Error(`quiche saw ${JSON.stringify(srv.closes)}`);
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'client',
    name: 'key update (ours, every 300 packets)',
    async run() {
      const srv = await quicheServer();
      try {
        const { ep, conn } = await ourClient(srv.port, { keyUpdateIntervalPackets: 300 });
        const s = await conn.createBidirectionalStream();
        await withTimeout(echoThrough({ readable: s.readable!, writable: s.writable! }, pattern(3 << 20, 5)), 60_000, 'echo 3 MB');
        if (conn.core.keyUpdates < 3) throw new Error(`only ${conn.core.keyUpdates} key updates`);
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'client',
    name: 'DATAGRAM echo',
    async run() {
      const srv = await quicheServer(true);
      try {
        const { ep, conn } = await ourClient(srv.port);
        if (conn.datagrams.maxDatagramSize < 1000) throw new Error(`quiche allows only ${conn.datagrams.maxDatagramSize}-byte datagrams`);
        const w = conn.datagrams.writable.getWriter();
        const r = conn.datagrams.readable.getReader();
        const got = new Set<number>();
        for (let i = 0; i < 50; i++) await w.write(pattern(500, i + 1).map((b, j) => (j === 0 ? i : b)));
        await withTimeout(
          (async () => {
            while (got.size < 50) got.add((await r.read()).value![0]!);
          })(),
          10_000,
          `datagrams echoed (${got.size} of 50)`,
        );
        await ep.close();
      } finally {
        await srv.stop();
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: 'handshake',
    async run() {
      const { ep, conns } = await ourEchoServer();
      try {
        const client = await quicheClient(ep.address.port);
        await withTimeout(conns[0]!.ready, 5000, 'our server handshake');
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: 'Retry (ours)',
    async run() {
      const { ep, conns } = await ourEchoServer({}, false, true);
      try {
        const client = await quicheClient(ep.address.port);
        await withTimeout(conns[0]!.ready, 5000, 'handshake after our Retry');
        const s = client.connection.newStream() as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
        await withTimeout(echoThrough(s, pattern(10_000, 8)), 10_000, 'echo');
        if (ep.core.retriesSent !== 1) throw new Error(`${ep.core.retriesSent} Retry packets`);
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: '10 MB each direction (SHA-256)',
    async run() {
      const { ep } = await ourEchoServer();
      try {
        const client = await quicheClient(ep.address.port);
        const s = client.connection.newStream();
        await withTimeout(echoThrough(s as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> }, pattern(BIG, 4)), 120_000, 'echo 10 MB');
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: '100 concurrent streams',
    async run() {
      const { ep } = await ourEchoServer();
      try {
        const client = await quicheClient(ep.address.port);
        const streams = Array.from({ length: 100 }, () => client.connection.newStream() as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> });
        await withTimeout(Promise.all(streams.map((s, i) => echoThrough(s, pattern(2000 + i, i + 1)))), 60_000, '100 streams');
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: 'key update (ours, every 300 packets)',
    async run() {
      const { ep, conns } = await ourEchoServer({ keyUpdateIntervalPackets: 300 });
      try {
        const client = await quicheClient(ep.address.port);
        const s = client.connection.newStream() as unknown as { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };
        await withTimeout(echoThrough(s, pattern(3 << 20, 6)), 60_000, 'echo 3 MB');
        const n = conns[0]!.core.keyUpdates;
        if (n < 3) throw new Error(`only ${n} key updates`);
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: 'DATAGRAM echo',
    async run() {
      const { ep } = await ourEchoServer({}, true);
      try {
        const client = await quicheClient(ep.address.port, true);
        const native = client.connection as unknown as NativeDgram;
        for (let i = 0; i < 50; i++) native.conn.dgramSend(pattern(500, i + 1).map((b, j) => (j === 0 ? i : b)));
        await native.send();
        const got = new Set<number>();
        await withTimeout(
          (async () => {
            while (got.size < 50) {
              for (let d = native.conn.dgramRecvVec(); d !== null; d = native.conn.dgramRecvVec()) got.add(d[0]!);
              await new Promise((r) => setTimeout(r, 2));
            }
          })(),
          10_000,
          `datagrams echoed (${got.size} of 50)`,
        );
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
  {
    peer: 'quiche',
    role: 'server',
    name: 'close with an application code',
    async run() {
      const { ep, conns } = await ourEchoServer();
      try {
        const client = await quicheClient(ep.address.port);
        await withTimeout(conns[0]!.ready, 5000, 'our server handshake');
        await client.connection.stop({ isApp: true, errorCode: 0x2a, reason: new TextEncoder().encode('done'), force: true });
        const info = await withTimeout(conns[0]!.closed, 10_000, 'close seen by our server');
        if (!info.byPeer || !info.isApplication || info.errorCode !== 0x2a) throw new Error(`our server saw ${JSON.stringify(info, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
        await client.destroy({ force: true });
      } finally {
        await ep.close(100);
      }
    },
  },
];
