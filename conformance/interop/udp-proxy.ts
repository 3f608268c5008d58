// A UDP impairment proxy on 127.0.0.1 for the loss and corruption interop cases: clients talk to the proxy,
// which forwards to the server from one upstream socket per client, dropping, corrupting and reordering
// datagrams with a seeded PRNG, so a failing run can be replayed. Only loopback addresses are used.

import { createSocket, type Socket } from 'node:dgram';
import { seededRandom } from '@gquic/testkit';

export interface Impairment {
  seed: number;
  /** Probability per datagram, each direction. */
  loss?: number;
  /** One random byte flipped. */
  corrupt?: number;
  /** Held back by `reorderMs` before delivery. */
  reorder?: number;
  reorderMs?: number;
  /** Only the first N datagrams of each direction of each client are impaired (handshake cases); default all. */
  firstDatagrams?: number;
}

export interface ProxyStats {
  forwarded: number;
  dropped: number;
  corrupted: number;
  reordered: number;
}

export class ImpairmentProxy {
  readonly stats: ProxyStats = { forwarded: 0, dropped: 0, corrupted: 0, reordered: 0 };
  private readonly upstream = new Map<string, { socket: Socket; toServer: number; toClient: number }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly rand: () => number;

  private constructor(
    private readonly front: Socket,
    private readonly target: { host: string; port: number },
    private readonly imp: Impairment,
  ) {
    this.rand = seededRandom(imp.seed);
    front.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port));
  }

  static async start(target: { host: string; port: number }, imp: Impairment): Promise<ImpairmentProxy> {
    const front = createSocket('udp4');
    await new Promise<void>((r) => front.bind(0, '127.0.0.1', () => r()));
    return new ImpairmentProxy(front, target, imp);
  }

  get port(): number {
    return this.front.address().port;
  }

  private fromClient(msg: Buffer, address: string, port: number): void {
    const key = `${address}:${port}`;
    let u = this.upstream.get(key);
    if (u === undefined) {
      const socket = createSocket('udp4');
      socket.bind(0, '127.0.0.1');
      socket.on('message', (m) => {
        const e = this.upstream.get(key)!;
        this.pass(m, e.toClient++, (d) => this.front.send(d, port, address));
      });
      socket.on('error', () => undefined);
      u = { socket, toServer: 0, toClient: 0 };
      this.upstream.set(key, u);
    }
    const s = u.socket;
    this.pass(msg, u.toServer++, (d) => s.send(d, this.target.port, this.target.host));
  }

  private pass(msg: Buffer, index: number, send: (d: Buffer) => void): void {
    const imp = this.imp;
    const r = this.rand;
    if (imp.firstDatagrams !== undefined && index >= imp.firstDatagrams) {
      this.stats.forwarded++;
      send(msg);
      return;
    }
    if (imp.loss !== undefined && r() < imp.loss) {
      this.stats.dropped++;
      return;
    }
    let d = msg;
    if (imp.corrupt !== undefined && r() < imp.corrupt) {
      d = Buffer.from(msg);
      d[Math.floor(r() * d.length)]! ^= 1 << Math.floor(r() * 8);
      this.stats.corrupted++;
    }
    this.stats.forwarded++;
    if (imp.reorder !== undefined && r() < imp.reorder) {
      this.stats.reordered++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        send(d);
      }, imp.reorderMs ?? 5);
      this.timers.add(t);
      return;
    }
    send(d);
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    for (const u of this.upstream.values()) u.socket.close();
    await new Promise<void>((r) => this.front.close(() => r()));
  }
}
