// HTTP/3 end to end over real UDP on 127.0.0.1: our client and server, fetch-style and low-level.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { QuicEndpoint, type QuicConnection } from '@gquic/node';
import { createTestPki } from '@gquic/testkit';
import { AntiReplay, TicketKeyRing } from '@gquic/tls';
import { BufferWriter } from '@gquic/wire';
import { Http3Client } from './client.js';
import { H3ErrorCode } from './errors.js';
import { FrameType, encodeFrame, encodeStreamType } from './frames.js';
import { Http3Server } from './server.js';
import { H3Session } from './session.js';
import { eventStream, readEventStream } from './sse.js';

const pki = createTestPki(nodeProvider, Date.now());
const leaf = pki.leaf('P-256', { names: ['localhost'], ips: [Uint8Array.of(127, 0, 0, 1)] });
const tls = { certificateChain: leaf.chain, privateKey: leaf.key, ticketKeys: new TicketKeyRing(nodeProvider), antiReplay: new AntiReplay(), earlyData: true };

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

async function bytesOf(r: Response): Promise<Uint8Array> {
  return new Uint8Array(await r.arrayBuffer());
}

let server: Http3Server;
let base: string;
const sessions: H3Session[] = [];

beforeAll(async () => {
  server = await Http3Server.listen({
    host: '127.0.0.1',
    port: 0,
    tls,
    onSession: (s) => sessions.push(s),
    handler: async (req, ctx) => {
      const url = new URL(req.url);
      if (url.pathname === '/echo') return new Response(req.body, { headers: { 'x-method': req.method } });
      if (url.pathname.startsWith('/bytes/')) {
        const n = Number(url.pathname.slice(7));
        return new Response(pattern(n, n), { headers: { 'content-type': 'application/octet-stream', 'content-length': String(n) } });
      }
      if (url.pathname === '/events') {
        return eventStream(
          (async function* () {
            for (let i = 0; i < 5; i++) yield { event: 'tick', id: String(i), data: `line ${i}\nsecond line` };
          })(),
        );
      }
      if (url.pathname === '/headers') return Response.json(Object.fromEntries(req.headers));
      if (url.pathname === '/throw') throw new Error('handler failed');
      if (url.pathname === '/handshake-state') return new Response(String(ctx.connection.core.handshakeComplete));
      return new Response('not found', { status: 404 });
    },
  });
  base = `https://localhost:${server.address.port}`;
});

afterAll(async () => {
  await server.close(200);
});

describe('HTTP/3 fetch over gquic', () => {
  it('GET, POST echo with streaming bodies both ways, 404, 500, and one connection for all', async () => {
    await using client = new Http3Client({ ca: pki.roots });
    const r1 = await client.fetch(`${base}/bytes/1000000`);
    expect(r1.status).toBe(200);
    expect(r1.headers.get('content-length')).toBe('1000000');
    expect(Buffer.from(await bytesOf(r1)).equals(Buffer.from(pattern(1_000_000, 1_000_000)))).toBe(true);
    const up = pattern(2_000_000, 7);
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (let at = 0; at < up.length; at += 100_000) c.enqueue(up.subarray(at, at + 100_000));
        c.close();
      },
    });
    const r2 = await client.fetch(`${base}/echo`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(r2.headers.get('x-method')).toBe('POST');
    expect(Buffer.from(await bytesOf(r2)).equals(Buffer.from(up))).toBe(true);
    expect((await client.fetch(`${base}/nowhere`)).status).toBe(404);
    expect((await client.fetch(`${base}/throw`)).status).toBe(500);
    const seen = new Set(sessions.map((s) => s.conn));
    // More requests than the server's stream limit (100), one after another: finished streams give credit back.
    for (let i = 0; i < 150; i++) expect((await client.fetch(`${base}/bytes/10`)).status).toBe(200);
    expect(new Set(sessions.map((s) => s.conn)).size).toBe(seen.size); // reused, no new connection
  });

  it('100 concurrent requests on one connection; QPACK uses its dynamic table', async () => {
    await using client = new Http3Client({ ca: pki.roots });
    const before = sessions.length;
    // One request first: the server's SETTINGS (its QPACK table capacity) arrive meanwhile.
    expect((await client.fetch(`${base}/bytes/1`, { headers: { 'x-request': 'value-0', 'user-agent': 'gquic-test/1.0' } })).status).toBe(200);
    const res = await Promise.all(Array.from({ length: 100 }, (_, i) => client.fetch(`${base}/bytes/${1000 + i}`, { headers: { 'x-request': `value-${i % 5}`, 'user-agent': 'gquic-test/1.0' } })));
    const bodies = await Promise.all(res.map(bytesOf));
    bodies.forEach((b, i) => expect(Buffer.from(b).equals(Buffer.from(pattern(1000 + i, 1000 + i)))).toBe(true));
    expect(sessions.length).toBe(before + 1);
    // Request headers repeat, so the client's encoder inserted entries into the server decoder's table.
    const s = sessions.at(-1)! as unknown as { decoder: { table: { insertCount: number } } };
    expect(s.decoder.table.insertCount).toBeGreaterThan(0);
  });

  it('request headers arrive as sent; connection-specific fields are not sent', async () => {
    await using client = new Http3Client({ ca: pki.roots });
    const r = await client.fetch(`${base}/headers`, { headers: { 'x-a': 'one', 'x-b': 'two', accept: 'application/json' } });
    const got = (await r.json()) as Record<string, string>;
    expect(got).toMatchObject({ 'x-a': 'one', 'x-b': 'two', accept: 'application/json' });
    expect(r.headers.get('content-type')).toMatch(/json/);
  });

  it('server-sent events stream through as events', async () => {
    await using client = new Http3Client({ ca: pki.roots });
    const r = await client.fetch(`${base}/events`);
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const events = [];
    for await (const e of readEventStream(r.body!)) events.push(e);
    expect(events).toHaveLength(5);
    expect(events[4]).toEqual({ event: 'tick', id: '4', data: 'line 4\nsecond line' });
  });

  it('resumes with the session it kept, and sends a GET as 0-RTT', async () => {
    const store = new Map();
    {
      await using first = new Http3Client({ ca: pki.roots, sessions: store });
      expect((await first.fetch(`${base}/bytes/100`)).status).toBe(200);
      for (let i = 0; i < 50 && store.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    }
    expect(store.size).toBe(1);
    let conn: QuicConnection | undefined;
    await using second = new Http3Client({ ca: pki.roots, sessions: store, onConnection: (c) => (conn = c) });
    const r = await second.fetch(`${base}/bytes/5000`);
    expect((await bytesOf(r)).length).toBe(5000);
    expect(await conn!.ready).toMatchObject({ resumed: true });
    expect(conn!.core.earlyDataAccepted).toBe(true);
    expect(conn!.core.stats().zeroRttPacketsSent).toBeGreaterThan(0);
  });

  it('the server runs GET on 0-RTT but holds a POST that came as 0-RTT until the handshake completes (RFC 8470)', async () => {
    const store = new Map();
    {
      await using first = new Http3Client({ ca: pki.roots, sessions: store });
      expect((await first.fetch(`${base}/bytes/10`)).status).toBe(200);
      for (let i = 0; i < 50 && store.size === 0; i++) await new Promise((r) => setTimeout(r, 10));
    }
    const session = [...store.values()][0];
    const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
    try {
      const conn = await ep.connect('127.0.0.1', server.address.port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: pki.roots, session, earlyData: true } });
      expect(conn.core.handshakeComplete).toBe(false);
      const h3 = new H3Session(conn, 'client');
      const head = (method: string): Array<[string, string]> => [[':method', method], [':scheme', 'https'], [':authority', `localhost:${server.address.port}`], [':path', '/handshake-state']];
      const [get, post] = await Promise.all([h3.request(head('GET')), h3.request(head('POST'), Uint8Array.of(1))]);
      expect(await new Response(get.body).text()).toBe('false'); // answered from early data
      expect(await new Response(post.body).text()).toBe('true'); // waited for the handshake
      expect(conn.core.stats().zeroRttPacketsSent).toBeGreaterThan(0);
    } finally {
      await ep.close(50);
    }
  });

  it('GOAWAY: a graceful close lets requests in flight finish', async () => {
    const local = await Http3Server.listen({
      host: '127.0.0.1',
      port: 0,
      tls,
      handler: async () => {
        await new Promise((r) => setTimeout(r, 300));
        return new Response('late but complete');
      },
    });
    await using client = new Http3Client({ ca: pki.roots });
    const pending = client.fetch(`https://localhost:${local.address.port}/slow`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = local.close(2000);
    const r = await pending;
    expect(await r.text()).toBe('late but complete');
    await closing;
  });
});

/** A raw QUIC client speaking just enough HTTP/3 to misbehave. */
async function rawClient(): Promise<{ ep: QuicEndpoint; conn: QuicConnection }> {
  const ep = await QuicEndpoint.bind({ host: '127.0.0.1' });
  const conn = await ep.connect('127.0.0.1', server.address.port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: pki.roots } });
  return { ep, conn };
}

async function closeCodeAfter(send: (conn: QuicConnection) => Promise<void>): Promise<number | bigint> {
  const { ep, conn } = await rawClient();
  try {
    await send(conn);
    const info = await Promise.race([conn.closed, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('no close')), 3000))]);
    return info.errorCode;
  } finally {
    await ep.close(50);
  }
}

async function control(conn: QuicConnection, ...chunks: Uint8Array[]): Promise<void> {
  const w = (await conn.createUnidirectionalStream()).writable!.getWriter();
  for (const c of chunks) await w.write(c);
}

function setting(id: number, value: number): Uint8Array {
  const b = new Uint8Array(16);
  const w = new BufferWriter(b);
  w.varint(id);
  w.varint(value);
  return b.subarray(0, w.pos);
}

describe('HTTP/3 connection errors (RFC 9114 §8.1) from a misbehaving peer', () => {
  const ctl = encodeStreamType(0x00);
  const settings = encodeFrame(FrameType.SETTINGS, new Uint8Array(0));

  it('H3_MISSING_SETTINGS when the control stream starts with another frame', async () => {
    expect(await closeCodeAfter((c) => control(c, ctl, encodeFrame(FrameType.GOAWAY, Uint8Array.of(0))))).toBe(H3ErrorCode.MISSING_SETTINGS);
  });

  it('H3_FRAME_UNEXPECTED for DATA on the control stream, and for a second SETTINGS', async () => {
    expect(await closeCodeAfter((c) => control(c, ctl, settings, encodeFrame(FrameType.DATA, Uint8Array.of(1))))).toBe(H3ErrorCode.FRAME_UNEXPECTED);
    expect(await closeCodeAfter((c) => control(c, ctl, settings, settings))).toBe(H3ErrorCode.FRAME_UNEXPECTED);
  });

  it('H3_SETTINGS_ERROR for an HTTP/2 setting or a duplicate', async () => {
    expect(await closeCodeAfter((c) => control(c, ctl, encodeFrame(FrameType.SETTINGS, setting(0x02, 1))))).toBe(H3ErrorCode.SETTINGS_ERROR);
    const dup = new Uint8Array([...setting(0x06, 100), ...setting(0x06, 200)]);
    expect(await closeCodeAfter((c) => control(c, ctl, encodeFrame(FrameType.SETTINGS, dup)))).toBe(H3ErrorCode.SETTINGS_ERROR);
  });

  it('H3_STREAM_CREATION_ERROR for a second control stream; H3_CLOSED_CRITICAL_STREAM when it ends', async () => {
    expect(
      await closeCodeAfter(async (c) => {
        await control(c, ctl, settings);
        await control(c, ctl, settings);
      }),
    ).toBe(H3ErrorCode.STREAM_CREATION_ERROR);
    expect(
      await closeCodeAfter(async (c) => {
        const w = (await c.createUnidirectionalStream()).writable!.getWriter();
        await w.write(ctl);
        await w.write(settings);
        await w.close();
      }),
    ).toBe(H3ErrorCode.CLOSED_CRITICAL_STREAM);
    // Reset instead of closed: the same.
    expect(
      await closeCodeAfter(async (c) => {
        const w = (await c.createUnidirectionalStream()).writable!.getWriter();
        await w.write(ctl);
        await w.write(settings);
        await new Promise((r) => setTimeout(r, 50));
        await w.abort({ code: 0x100 });
      }),
    ).toBe(H3ErrorCode.CLOSED_CRITICAL_STREAM);
  });

  it('H3_FRAME_UNEXPECTED for DATA before HEADERS on a request stream; QPACK errors close with their code', async () => {
    expect(
      await closeCodeAfter(async (c) => {
        const w = (await c.createBidirectionalStream()).writable!.getWriter();
        await w.write(encodeFrame(FrameType.DATA, Uint8Array.of(1, 2, 3)));
      }),
    ).toBe(H3ErrorCode.FRAME_UNEXPECTED);
    expect(
      await closeCodeAfter(async (c) => {
        const w = (await c.createBidirectionalStream()).writable!.getWriter();
        await w.write(encodeFrame(FrameType.HEADERS, Uint8Array.of(0x00, 0x00, 0xff, 0x7f))); // static index 190
      }),
    ).toBe(0x200);
  });

  it('a malformed request is a stream error (H3_MESSAGE_ERROR); the connection lives on', async () => {
    const { ep, conn } = await rawClient();
    try {
      const session = new H3Session(conn, 'client');
      const lines: Array<[string, string]> = [
        [':method', 'GET'],
        [':scheme', 'https'],
        [':authority', 'localhost'],
        [':path', '/bytes/10'],
        ['connection', 'close'],
      ];
      await expect(session.request(lines).then((r) => r.body.getReader().read())).rejects.toThrow();
      const ok = await session.request(lines.slice(0, 4));
      expect(ok.status).toBe(200);
      expect(conn.core.isClosed).toBe(false);
    } finally {
      await ep.close(50);
    }
  });
});

describe('the low-level session API: trailers, Extended CONNECT with HTTP Datagrams, PRIORITY_UPDATE, GOAWAY from a client', () => {
  it('works end to end', async () => {
    const serverSessions: H3Session[] = [];
    const seenPriority: Array<[number, number] | undefined> = [];
    const local = await Http3Server.listen({
      host: '127.0.0.1',
      port: 0,
      tls,
      h3: { enableConnectProtocol: true, h3Datagram: true },
      onSession: (s) => serverSessions.push(s),
      handler: () => new Response('fetch handler'),
      exchanges: (ex, session) => {
        if (ex.head.method === 'CONNECT' && ex.head.protocol === 'echo-datagrams') {
          // Echo every HTTP Datagram of this stream back, until the client ends the stream.
          const dg = session.datagrams(ex.streamId);
          void ex.respond(200, [], new ReadableStream({ start: () => undefined })).catch(() => undefined);
          void (async () => {
            const r = dg.readable.getReader();
            for (;;) {
              const { done, value } = await r.read();
              if (done) return;
              await dg.send(value);
            }
          })();
          return true;
        }
        if (ex.head.path === '/trailers') {
          void (async () => {
            const body = new Uint8Array(await new Response(ex.body).arrayBuffer());
            const t = await ex.trailers;
            await ex.respond(200, [['x-got', String(body.length)]], body, [['x-echo-trailer', t?.find(([n]) => n === 'x-trailer')?.[1] ?? 'none']]);
          })();
          return true;
        }
        if (ex.head.path === '/slow') {
          void (async () => {
            await new Promise((r) => setTimeout(r, 150));
            const p = (session as unknown as { priorities: Map<number, { urgency: number }> }).priorities.get(ex.streamId);
            seenPriority.push(p === undefined ? undefined : [ex.streamId, p.urgency]);
            await ex.respond(200, [], new Uint8Array(10));
          })();
          return true;
        }
        return false;
      },
    });
    const { ep, conn } = await (async () => {
      const e = await QuicEndpoint.bind({ host: '127.0.0.1' });
      const c = await e.connect('127.0.0.1', local.address.port, { tls: { alpn: ['h3'], serverName: 'localhost', ca: pki.roots } });
      return { ep: e, conn: c };
    })();
    try {
      const session = new H3Session(conn, 'client', { h3Datagram: true });
      const settings = await session.peerSettings;
      expect(settings).toMatchObject({ enableConnectProtocol: true, h3Datagram: true, qpackMaxTableCapacity: 4096 });
      const authority = `localhost:${local.address.port}`;
      // Trailers both ways.
      const withTrailers = await sessionRequestWithTrailers(session, authority);
      expect(withTrailers.headers).toContainEqual(['x-got', '5']);
      expect(withTrailers.trailers).toEqual([['x-echo-trailer', 'yes']]);
      // Extended CONNECT (RFC 9220) and HTTP Datagrams (RFC 9297) echoed on its stream.
      expect(session.datagramsAvailable).toBe(true);
      const tunnel = await session.request([[':method', 'CONNECT'], [':protocol', 'echo-datagrams'], [':scheme', 'https'], [':authority', authority], [':path', '/dg']], new ReadableStream({ start: () => undefined }));
      expect(tunnel.status).toBe(200);
      const dg = session.datagrams(tunnel.streamId);
      const got = new Set<number>();
      const reader = dg.readable.getReader();
      for (let i = 0; i < 20; i++) expect(await dg.send(Uint8Array.of(i, 1, 2, 3))).toBe(true);
      await withTimeoutP((async () => {
        while (got.size < 15) got.add((await reader.read()).value![0]!);
      })(), 3000);
      expect(got.size).toBeGreaterThanOrEqual(15); // unreliable on paper, loopback loses none or few
      // PRIORITY_UPDATE reaches the server while the request is open.
      const slow = session.request([[':method', 'GET'], [':scheme', 'https'], [':authority', authority], [':path', '/slow'], ['priority', 'u=5']]);
      await new Promise((r) => setTimeout(r, 50));
      const slowId = (serverSessions[0] as unknown as { maxRequestId: number }).maxRequestId;
      await session.updatePriority(slowId, { urgency: 1, incremental: false });
      expect((await slow).status).toBe(200);
      expect(seenPriority).toEqual([[slowId, 1]]);
      // GOAWAY from the client (§5.2): the server learns it; then the client closes.
      await session.shutdown(200);
      await new Promise((r) => setTimeout(r, 50));
      expect(serverSessions[0]!.goawayReceived).toBe(0);
    } finally {
      await ep.close(50);
      await local.close(100);
    }
  });
});

async function withTimeoutP<T>(p: Promise<T>, ms: number): Promise<T> {
  return Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('timeout')), ms))]);
}

/** A POST with a body and a trailer, through the low-level API; resolves with the response and its trailers. */
async function sessionRequestWithTrailers(session: H3Session, authority: string): Promise<{ headers: Array<[string, string]>; trailers: Array<[string, string]> | undefined }> {
  const res = await session.request([[':method', 'POST'], [':scheme', 'https'], [':authority', authority], [':path', '/trailers']], Uint8Array.of(1, 2, 3, 4, 5), { trailers: [['x-trailer', 'yes']] });
  await new Response(res.body).arrayBuffer();
  return { headers: res.headers, trailers: await res.trailers };
}
