// Runs a TLS client and server against each other in memory, the way QUIC carries the handshake: CRYPTO data
// per encryption level with offsets, optionally split and reordered. Checks, as it goes, that no level's
// data is sent before the sender has that level's write secret or delivered before the receiver can read it.

import type { EncryptionLevel, TlsConnection, TlsEvent } from '@gquic/tls';

export interface SideLog {
  events: TlsEvent[];
  /** `${direction}:${level}` → secret */
  secrets: Map<string, Uint8Array>;
  /** Bytes sent per level. */
  sent: Map<EncryptionLevel, number>;
  error: Error | undefined;
}

/** Splits one send into pieces (offsets relative to the send); default: one piece. */
export type Splitter = (data: Uint8Array) => Array<{ offset: number; data: Uint8Array }>;

/** One CRYPTO delivery in the order the pair makes them. */
export interface Delivery {
  to: 'client' | 'server';
  level: EncryptionLevel;
  offset: number;
  data: Uint8Array;
}

export interface PairOptions {
  split?: Splitter;
  /** Reorders the pieces of each send (e.g. a seeded shuffle). */
  reorder?: <T>(pieces: T[]) => T[];
  /** Replaces the n-th delivery (counting from 0) with what it returns (fuzzing). */
  tamper?: (n: number, d: Delivery) => Delivery[];
  /**
   * When a receiver has no read secret for a level: throw (the default, a bug in the sender's ordering) or drop
   * the data as an undecryptable packet would be (what happens once a tampered handshake has diverged).
   */
  unreadable?: 'throw' | 'drop';
}

export interface PairResult {
  client: SideLog;
  server: SideLog;
  /** True when both sides completed. */
  done: boolean;
}

function newLog(): SideLog {
  return { events: [], secrets: new Map(), sent: new Map(), error: undefined };
}

export function runHandshake(client: TlsConnection, server: TlsConnection, now: number, opts: PairOptions = {}): PairResult {
  const { split, reorder, tamper } = opts;
  let delivered = 0;
  const logs = new Map<TlsConnection, SideLog>([
    [client, newLog()],
    [server, newLog()],
  ]);
  const queue: Array<{ to: TlsConnection; level: EncryptionLevel; offset: number; data: Uint8Array }> = [];
  const drain = (c: TlsConnection): void => {
    const log = logs.get(c)!;
    const peer = c === client ? server : client;
    for (let e = c.pollEvent(); e !== undefined; e = c.pollEvent()) {
      log.events.push(e);
      if (e.type === 'secret') log.secrets.set(`${e.direction}:${e.level}`, e.secret);
      if (e.type === 'handshake-data') {
        if (e.level !== 'initial' && !log.secrets.has(`write:${e.level}`)) throw new Error(`${c === client ? 'client' : 'server'} sent ${e.level} data before its write secret`);
        const base = log.sent.get(e.level) ?? 0;
        log.sent.set(e.level, base + e.data.length);
        let pieces = split?.(e.data) ?? [{ offset: 0, data: e.data }];
        if (reorder !== undefined) pieces = reorder(pieces);
        for (const p of pieces) queue.push({ to: peer, level: e.level, offset: base + p.offset, data: p.data });
      }
    }
  };
  try {
    client.start(now);
    drain(client);
  } catch (e) {
    logs.get(client)!.error = e as Error;
  }
  while (queue.length > 0) {
    let d = queue.shift()!;
    if (tamper !== undefined) {
      const replaced = tamper(delivered++, { to: d.to === client ? 'client' : 'server', level: d.level, offset: d.offset, data: d.data });
      queue.unshift(...replaced.slice(1).map((x) => ({ ...x, to: x.to === 'client' ? client : server })));
      const first = replaced[0];
      if (first === undefined) continue;
      d = { ...first, to: first.to === 'client' ? client : server };
    }
    const log = logs.get(d.to)!;
    if (log.error !== undefined) continue;
    if (d.level !== 'initial' && !log.secrets.has(`read:${d.level}`)) {
      if (opts.unreadable === 'drop') continue;
      throw new Error(`${d.to === client ? 'client' : 'server'} got ${d.level} data before its read secret`);
    }
    try {
      d.to.handleCryptoData(d.level, d.offset, d.data, now);
    } catch (e) {
      log.error = e as Error;
    }
    drain(d.to);
  }
  const c = logs.get(client)!;
  const s = logs.get(server)!;
  return { client: c, server: s, done: client.handshakeComplete && server.handshakeComplete && c.error === undefined && s.error === undefined };
}
