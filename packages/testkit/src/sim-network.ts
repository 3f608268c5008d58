// A deterministic network for sans-IO endpoints: virtual time (µs), and per direction a link with one-way
// delay, jitter, bandwidth with a tail-drop queue, random loss, reordering, duplication and corruption, all
// from a seeded PRNG. Two Endpoints exchange datagrams over it; `run` advances time event by event.

import type { Address, Endpoint } from '@gquic/quic';

export interface LinkConfig {
  /** One-way propagation delay, µs. */
  delayUs: number;
  /** Uniform extra delay in [0, jitterUs). */
  jitterUs?: number;
  /** Bits per second; Infinity for no serialisation delay. */
  bandwidthBps?: number;
  /** Packets that may wait for the link (tail drop beyond). */
  queuePackets?: number;
  /** Probabilities, 0..1. */
  loss?: number;
  /** A reordered packet is held back by up to `reorderDelayUs` extra. */
  reorder?: number;
  reorderDelayUs?: number;
  duplicate?: number;
  /** One random byte of the datagram is flipped. */
  corrupt?: number;
  /** Datagrams larger than this are dropped (a path MTU, as UDP payload bytes). */
  mtu?: number;
  /** Drops packets for which this returns true (scripted loss), after the random effects. */
  drop?: (datagram: Uint8Array, index: number) => boolean;
}

/** mulberry32: small, fast, good enough for simulation. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface LinkStats {
  sent: number;
  sentBytes: number;
  delivered: number;
  deliveredBytes: number;
  dropped: number;
  queueDropped: number;
}

class Link {
  private busyUntil = 0;
  private queued: number[] = []; // transmission end times of queued packets
  private count = 0;
  readonly stats: LinkStats = { sent: 0, sentBytes: 0, delivered: 0, deliveredBytes: 0, dropped: 0, queueDropped: 0 };

  constructor(
    readonly config: LinkConfig,
    private readonly rand: () => number,
  ) {}

  /** Schedules delivery of `d`; returns the arrival times (0, 1 or 2 copies). */
  send(d: Uint8Array, now: number): Array<{ at: number; data: Uint8Array }> {
    const c = this.config;
    const index = this.count++;
    this.stats.sent++;
    this.stats.sentBytes += d.length;
    // Serialisation and queue.
    this.queued = this.queued.filter((t) => t > now);
    if (c.queuePackets !== undefined && this.queued.length >= c.queuePackets) {
      this.stats.queueDropped++;
      return [];
    }
    const bw = c.bandwidthBps ?? Number.POSITIVE_INFINITY;
    const txStart = Math.max(now, this.busyUntil);
    const txEnd = txStart + (bw === Number.POSITIVE_INFINITY ? 0 : (d.length * 8 * 1e6) / bw);
    this.busyUntil = txEnd;
    this.queued.push(txEnd);
    if (this.rand() < (c.loss ?? 0) || (c.drop?.(d, index) ?? false) || d.length > (c.mtu ?? Number.POSITIVE_INFINITY)) {
      this.stats.dropped++;
      return [];
    }
    const out: Array<{ at: number; data: Uint8Array }> = [];
    const copies = this.rand() < (c.duplicate ?? 0) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      let at = txEnd + c.delayUs + (c.jitterUs !== undefined ? this.rand() * c.jitterUs : 0);
      if (this.rand() < (c.reorder ?? 0)) at += this.rand() * (c.reorderDelayUs ?? c.delayUs);
      let data = d.slice();
      if (this.rand() < (c.corrupt ?? 0)) {
        data = data.slice();
        data[Math.floor(this.rand() * data.length)]! ^= 1 + Math.floor(this.rand() * 255);
      }
      out.push({ at, data });
    }
    return out;
  }
}

interface InFlight {
  at: number;
  seq: number;
  to: 0 | 1;
  data: Uint8Array;
}

export interface SimOptions {
  seed?: number;
  clientToServer?: LinkConfig;
  serverToClient?: LinkConfig;
  /** Virtual start time, µs since the epoch (certificates are checked against it). */
  startUs?: number;
}

export const CLIENT_ADDRESS: Address = { address: '10.0.0.1', port: 40000 };
export const SERVER_ADDRESS: Address = { address: '10.0.0.2', port: 443 };

/** Two endpoints over simulated links. */
export class SimNetwork {
  now: number;
  private readonly links: [Link, Link];
  private inflight: InFlight[] = [];
  private seq = 0;
  private readonly buf = new Uint8Array(65536);
  /** Bytes each endpoint sent and received (for amplification checks). */
  readonly sentBytes: [number, number] = [0, 0];
  /** The source address the server sees for the client (change it to simulate NAT rebinding or migration). */
  clientAddress: Address = CLIENT_ADDRESS;
  /** Timers of the scenario (cross traffic, application writes): run in time order with the network's events. */
  private readonly timers: Array<{ at: number; fn: () => void }> = [];

  /** Runs `fn` at virtual time `at` (during `run`). */
  schedule(at: number, fn: () => void): void {
    this.timers.push({ at, fn });
    this.timers.sort((a, b) => a.at - b.at);
  }

  /**
   * A datagram of another flow (not QUIC) entering the client-to-server bottleneck now: its queueing delay there
   * (µs, beyond propagation and its own serialisation), or undefined when the queue dropped it.
   */
  crossTraffic(bytes: number): number | undefined {
    const link = this.links[0];
    const out = link.send(new Uint8Array(bytes), this.now);
    const a = out[0];
    if (a === undefined) return undefined;
    const bw = link.config.bandwidthBps ?? Number.POSITIVE_INFINITY;
    const tx = Number.isFinite(bw) ? (bytes * 8 * 1e6) / bw : 0;
    return Math.max(0, a.at - this.now - link.config.delayUs - tx);
  }

  /** Where the server addressed each datagram it sent, in order; the same for the client. */
  readonly serverSentTo: Address[] = [];
  readonly clientSentTo: Address[] = [];
  /** Addresses the server receives on (a preferred address is added here); client datagrams to others are lost. */
  serverAddresses: Address[] = [SERVER_ADDRESS];
  readonly receivedBytes: [number, number] = [0, 0];

  constructor(
    readonly client: Endpoint,
    public server: Endpoint,
    opts: SimOptions = {},
  ) {
    const rand = seededRandom(opts.seed ?? 1);
    this.now = opts.startUs ?? Date.UTC(2026, 10, 24) * 1000;
    this.links = [new Link(opts.clientToServer ?? { delayUs: 10_000 }, rand), new Link(opts.serverToClient ?? { delayUs: 10_000 }, rand)];
  }

  get linkStats(): { clientToServer: LinkStats; serverToClient: LinkStats } {
    return { clientToServer: this.links[0].stats, serverToClient: this.links[1].stats };
  }

  private flush(): void {
    const eps = [this.client, this.server] as const;
    for (let i = 0 as 0 | 1; i < 2; i = (i + 1) as 0 | 1) {
      for (let guard = 0; guard < 100_000; guard++) {
        const out = eps[i].send(this.now, this.buf);
        if (out === null) break;
        const d = this.buf.slice(0, out.length);
        this.sentBytes[i] += d.length;
        if (i === 1) this.serverSentTo.push(out.to);
        else {
          this.clientSentTo.push(out.to);
          if (!this.serverAddresses.some((a) => a.address === out.to.address && a.port === out.to.port)) continue;
        }
        for (const a of this.links[i].send(d, this.now)) this.inflight.push({ at: a.at, seq: this.seq++, to: i === 0 ? 1 : 0, data: a.data });
      }
    }
  }

  /**
   * Runs until `done()` is true or `maxUs` of virtual time passed; `onStep` runs after every event (the
   * application's turn: read streams, write more). Returns whether `done()` became true.
   */
  run(done: () => boolean, maxUs = 60_000_000, onStep?: () => void): boolean {
    const end = this.now + maxUs;
    let stuck = 0;
    let lastNow = this.now;
    for (;;) {
      // A deadline that does not move time forward and does not change anything would loop forever: a bug.
      if (this.now === lastNow) {
        if (++stuck > 100_000) throw new Error(`simulation stuck at ${this.now} (client timeout ${this.client.timeout()}, server timeout ${this.server.timeout()}, ${this.inflight.length} in flight)`);
      } else {
        stuck = 0;
        lastNow = this.now;
      }
      onStep?.();
      this.flush();
      if (done()) return true;
      // Next event: a delivery or a timer.
      let next = Math.min(this.client.timeout(), this.server.timeout(), this.timers[0]?.at ?? Number.POSITIVE_INFINITY);
      let nextDelivery: InFlight | undefined;
      for (const f of this.inflight) if (nextDelivery === undefined || f.at < nextDelivery.at || (f.at === nextDelivery.at && f.seq < nextDelivery.seq)) nextDelivery = f;
      if (nextDelivery !== undefined) next = Math.min(next, nextDelivery.at);
      if (!Number.isFinite(next) || next > end) {
        this.now = Math.max(this.now, Math.min(end, Number.isFinite(next) ? next : end));
        return done();
      }
      this.now = Math.max(this.now, next);
      if (nextDelivery !== undefined && nextDelivery.at <= this.now) {
        this.inflight.splice(this.inflight.indexOf(nextDelivery), 1);
        const ep = nextDelivery.to === 0 ? this.client : this.server;
        this.receivedBytes[nextDelivery.to] += nextDelivery.data.length;
        ep.recv(nextDelivery.data, nextDelivery.to === 0 ? SERVER_ADDRESS : this.clientAddress, this.now);
      }
      if (this.client.timeout() <= this.now) this.client.handleTimeout(this.now);
      if (this.server.timeout() <= this.now) this.server.handleTimeout(this.now);
      while (this.timers.length > 0 && this.timers[0]!.at <= this.now) this.timers.shift()!.fn();
    }
  }
}
