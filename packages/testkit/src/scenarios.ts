// The measured scenarios of docs/performance.md, on the deterministic simulated network: a bottleneck link with
// a tail-drop queue, seeded, on virtual time. Each returns its numbers; conformance/performance.test.ts asserts
// the claims and conformance/performance/run.ts writes the tables.

import { congestionControl, type CongestionControlName } from '@gquic/quic';
import { PriorityClass, type SchedulerMode } from '@gquic/scheduler';
import type { GamingCongestionConfig } from '@gquic/recovery';
import { QuicPair } from './quic-pair.js';

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function percentiles(xs: number[]): Percentiles {
  if (xs.length === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { count: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

export interface BottleneckOptions {
  /** Bits per second of the client-to-server bottleneck. */
  bandwidthBps: number;
  rttMs: number;
  queuePackets: number;
  loss?: number;
  seed?: number;
  cc: CongestionControlName;
  gaming?: Partial<GamingCongestionConfig>;
  scheduler?: SchedulerMode;
}

function pair(o: BottleneckOptions): QuicPair {
  const oneWay = (o.rttMs * 1000) / 2;
  return new QuicPair({
    seed: o.seed ?? 1,
    clientToServer: { delayUs: oneWay, bandwidthBps: o.bandwidthBps, queuePackets: o.queuePackets, loss: o.loss ?? 0 },
    serverToClient: { delayUs: oneWay, loss: o.loss ?? 0 },
    clientTransport: {
      congestionController: congestionControl(o.cc, o.gaming),
      scheduler: { mode: o.scheduler ?? 'priority' },
      // Enough buffering and flow control that the window, not a buffer, limits the bulk transfer.
      sendBufferLimit: 4 << 20,
      pmtuDiscovery: false,
    },
    serverTransport: { connectionWindow: 64 << 20, streamWindow: 32 << 20, maxStreamWindow: 64 << 20, pmtuDiscovery: false },
  });
}

/** Keeps a stream's send buffer full (a saturating upload); returns a function that counts bytes read at the server. */
function saturate(p: QuicPair, id: number): () => number {
  const chunk = new Uint8Array(256 * 1024);
  let read = 0;
  return () => {
    while (p.conn.streamWritable(id) > 0 && p.conn.streamWrite(id, chunk) > 0);
    const s = p.serverConn;
    if (s !== undefined) for (let r = s.streamRead(id, 1 << 20, p.now); r !== null; r = s.streamRead(id, 1 << 20, p.now)) read += r.data.length;
    return read;
  };
}

/**
 * Runs the pair until `end`, keeping the bulk stream saturated; `onStep` gets the application's turn after every
 * event. Returns the bulk goodput in Mbit/s between `warm` and `end`.
 */
function runBulk(p: QuicPair, pump: () => number, warm: number, end: number, onStep?: () => void): number {
  let atWarm = 0;
  let atEnd = 0;
  p.run(
    () => p.now >= end,
    end - p.now + 1_000_000,
    () => {
      const b = pump();
      if (p.now < warm) atWarm = b;
      atEnd = b;
      onStep?.();
    },
  );
  return ((atEnd - atWarm) * 8) / ((end - warm) / 1e6) / 1e6;
}

export interface MessagesResult {
  /** Latencies in ms; a message not delivered by the end counts with its age then (a lower bound). */
  critical: Percentiles & { undelivered: number };
  health: Percentiles & { undelivered: number };
  bulkMbps: number;
}

/**
 * Claim 1: 200-byte Critical and Health messages, 50 per second each, beside a saturating Bulk upload on one
 * connection. Delivery latency: from the write to the server reading the whole message, in ms.
 */
export function messagesWithBulk(o: BottleneckOptions & { seconds: number; warmupSeconds?: number }): MessagesResult {
  const p = pair(o);
  if (!p.handshake()) throw new Error('handshake failed');
  const bulk = p.conn.openStream(false)!;
  p.conn.setStreamClass(bulk, PriorityClass.Bulk);
  const classes = [PriorityClass.Critical, PriorityClass.Health] as const;
  const ids = classes.map((c) => {
    const id = p.conn.openStream(false)!;
    p.conn.setStreamClass(id, c);
    return id;
  });
  const pump = saturate(p, bulk);
  const sentAt: number[][] = [[], []];
  const lat: number[][] = [[], []];
  const got = [0, 0];
  const start = p.now;
  const warm = start + (o.warmupSeconds ?? 1) * 1e6;
  const end = start + o.seconds * 1e6;
  for (let t = start + 20_000; t < end; t += 20_000) {
    for (let k = 0; k < 2; k++) {
      // The two classes are offset by 10 ms so they do not always share a packet.
      p.net.schedule(t + k * 10_000, () => {
        sentAt[k]!.push(p.now);
        p.conn.streamWrite(ids[k]!, new Uint8Array(200));
      });
    }
  }
  const bulkMbps = runBulk(p, pump, warm, end, () => {
    const s = p.serverConn;
    if (s === undefined) return;
    for (let k = 0; k < 2; k++) {
      for (let r = s.streamRead(ids[k]!, 1 << 20, p.now); r !== null; r = s.streamRead(ids[k]!, 1 << 20, p.now)) {
        got[k]! += r.data.length;
        while (lat[k]!.length < Math.floor(got[k]! / 200)) {
          const i = lat[k]!.length;
          lat[k]!.push((p.now - sentAt[k]![i]!) / 1000);
        }
      }
    }
  });
  // Only messages sent after the warm-up count (the first second includes slow start).
  const measured = (k: number): Percentiles & { undelivered: number } => {
    const xs: number[] = [];
    let undelivered = 0;
    sentAt[k]!.forEach((t, i) => {
      // Messages of the last 200 ms may still be on their way at the end: not counted.
      if (t < warm || t > end - 200_000) return;
      const l = lat[k]![i];
      if (l === undefined) undelivered++;
      xs.push(l ?? (end - t) / 1000);
    });
    return { ...percentiles(xs), undelivered };
  };
  return { critical: measured(0), health: measured(1), bulkMbps };
}

export interface GamingFlowResult {
  /** Queueing delay the game's packets met at the bottleneck, ms. */
  delay: Percentiles;
  loss: number;
  bulkMbps: number;
  /** The bottleneck's capacity left by the game flow, Mbit/s. */
  spareMbps: number;
}

/**
 * Claim 2: a game's own UDP flow (60 packets/s × 200 bytes, not QUIC) shares the bottleneck queue with our Bulk
 * upload. The game is told to the controller (a session is active) as a panel would.
 */
export function gamingFlowWithBulk(o: BottleneckOptions & { seconds: number; warmupSeconds?: number }): GamingFlowResult {
  const p = pair(o);
  if (!p.handshake()) throw new Error('handshake failed');
  if (o.cc === 'gaming') p.conn.setGamingSession(true);
  const bulk = p.conn.openStream(false)!;
  const pump = saturate(p, bulk);
  const start = p.now;
  const warm = start + (o.warmupSeconds ?? 2) * 1e6;
  const end = start + o.seconds * 1e6;
  const delays: number[] = [];
  let sent = 0;
  let lost = 0;
  for (let t = start + 1000; t < end; t += 1e6 / 60) {
    p.net.schedule(t, () => {
      const d = p.net.crossTraffic(200 + 28);
      if (p.now < warm) return;
      sent++;
      if (d === undefined) lost++;
      else delays.push(d / 1000);
    });
  }
  const bulkMbps = runBulk(p, pump, warm, end);
  const spare = o.bandwidthBps / 1e6 - (60 * 228 * 8) / 1e6;
  return { delay: percentiles(delays), loss: sent === 0 ? 0 : lost / sent, bulkMbps, spareMbps: spare };
}

/** Claim 3: bulk goodput (application bytes read at the server), Mbit/s, after a warm-up. */
export function bulkGoodput(o: BottleneckOptions & { seconds: number; warmupSeconds?: number }): number {
  const p = pair(o);
  if (!p.handshake()) throw new Error('handshake failed');
  const bulk = p.conn.openStream(false)!;
  const pump = saturate(p, bulk);
  const start = p.now;
  const warm = start + (o.warmupSeconds ?? 1) * 1e6;
  const end = start + o.seconds * 1e6;
  return runBulk(p, pump, warm, end);
}
