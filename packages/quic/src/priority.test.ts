// RFC 9218 §10 scheduling in the transport: urgency first, sequential vs incremental within one urgency.

import { describe, expect, it } from 'vitest';
import { QuicPair, patternBytes } from '@gquic/testkit';

/** Writes `n` bytes on each stream (in the order given, all before any is sent); returns the order they completed. */
function completionOrder(p: QuicPair, ids: number[], n: number): number[] {
  const data = patternBytes(n, 3);
  const written = new Map(ids.map((id) => [id, 0]));
  const got = new Map(ids.map((id) => [id, 0]));
  const done: number[] = [];
  p.run(
    () => done.length === ids.length,
    30_000_000,
    () => {
      for (const id of ids) {
        const w = written.get(id)!;
        if (w < n) written.set(id, w + p.conn.streamWrite(id, data.subarray(w), true));
      }
      const s = p.serverConn;
      if (s === undefined) return;
      for (const id of ids) {
        for (let r = s.streamRead(id, 1 << 20, p.now); r !== null; r = s.streamRead(id, 1 << 20, p.now)) {
          got.set(id, got.get(id)! + r.data.length);
          if (r.fin && got.get(id) === n) done.push(id);
        }
      }
    },
  );
  return done;
}

describe('stream priorities (RFC 9218 §10) in the transport', () => {
  it('lower urgency first; sequential streams of one urgency in stream-id order', () => {
    const p = new QuicPair({ clientToServer: { delayUs: 10_000, bandwidthBps: 20_000_000, queuePackets: 200 } });
    expect(p.handshake()).toBe(true);
    const ids = [0, 1, 2, 3].map(() => p.conn.openStream(true)!);
    p.conn.setStreamPriority(ids[0]!, 6, false);
    p.conn.setStreamPriority(ids[1]!, 1, false);
    p.conn.setStreamPriority(ids[2]!, 1, false);
    p.conn.setStreamPriority(ids[3]!, 0, false);
    expect(completionOrder(p, ids, 200_000)).toEqual([ids[3], ids[1], ids[2], ids[0]]);
  });

  it('incremental streams of one urgency share the link (they finish close together)', () => {
    const p = new QuicPair({ clientToServer: { delayUs: 10_000, bandwidthBps: 20_000_000, queuePackets: 200 } });
    expect(p.handshake()).toBe(true);
    const a = p.conn.openStream(true)!;
    const b = p.conn.openStream(true)!;
    p.conn.setStreamPriority(a, 2, true);
    p.conn.setStreamPriority(b, 2, true);
    const start = p.now;
    const finish: number[] = [];
    const n = 300_000;
    const data = patternBytes(n, 1);
    const written = [0, 0];
    const got = [0, 0];
    p.run(
      () => finish.length === 2,
      30_000_000,
      () => {
        [a, b].forEach((id, i) => {
          if (written[i]! < n) written[i]! += p.conn.streamWrite(id, data.subarray(written[i]!), true);
          for (let r = p.serverConn?.streamRead(id, 1 << 20, p.now) ?? null; r !== null; r = p.serverConn!.streamRead(id, 1 << 20, p.now)) {
            got[i]! += r.data.length;
            if (r.fin) finish.push(p.now - start);
          }
        });
      },
    );
    expect(finish).toHaveLength(2);
    // Round-robin: the first finishes at more than 80% of the time the second needs (sequential would be ~50%).
    expect(finish[0]! / finish[1]!).toBeGreaterThan(0.8);
  });
});
