// The stream scheduler: strict classes with minimum shares, RFC 9218 inside a class, gaming boost, modes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from './heap.js';
import { PriorityClass, StreamScheduler } from './scheduler.js';

/** Runs the scheduler: each turn sends `chunk` bytes from next(); streams have `left[id]` bytes. */
function drain(s: StreamScheduler, left: Map<number, number>, chunk = 1200, maxTurns = 100_000): number[] {
  const order: number[] = [];
  for (const id of left.keys()) s.ready(id);
  for (let t = 0; t < maxTurns; t++) {
    const id = s.next();
    if (id === undefined) break;
    const n = Math.min(chunk, left.get(id)!);
    left.set(id, left.get(id)! - n);
    order.push(id);
    s.sent(id, n, left.get(id)! > 0);
  }
  return order;
}

describe('StreamScheduler', () => {
  it('strict priority between classes: Critical, Health, GamingTelemetry, Logs, Bulk', () => {
    const s = new StreamScheduler({ minShare: { [PriorityClass.Bulk]: 0, [PriorityClass.Logs]: 0 } });
    const classes = [PriorityClass.Bulk, PriorityClass.Logs, PriorityClass.GamingTelemetry, PriorityClass.Health, PriorityClass.Critical];
    classes.forEach((c, i) => s.set(i * 4, { class: c }));
    const order = drain(s, new Map(classes.map((_, i) => [i * 4, 2400])));
    expect(order).toEqual([16, 16, 12, 12, 8, 8, 4, 4, 0, 0]);
  });

  it('within a class: urgency first, sequential streams by id one at a time, incremental ones round-robin', () => {
    const s = new StreamScheduler();
    s.set(8, { class: PriorityClass.Health, urgency: 1, incremental: false });
    s.set(4, { class: PriorityClass.Health, urgency: 1, incremental: false });
    s.set(12, { class: PriorityClass.Health, urgency: 2, incremental: true });
    s.set(16, { class: PriorityClass.Health, urgency: 2, incremental: true });
    s.set(0, { class: PriorityClass.Health, urgency: 0, incremental: true });
    const order = drain(s, new Map([[0, 1200], [4, 2400], [8, 2400], [12, 2400], [16, 2400]]));
    expect(order).toEqual([0, 4, 4, 8, 8, 12, 16, 12, 16]);
  });

  it('a game session raises GamingTelemetry to Critical (ahead of Health); urgency breaks the tie with Critical', () => {
    const s = new StreamScheduler();
    s.set(0, { class: PriorityClass.Health });
    s.set(4, { class: PriorityClass.GamingTelemetry, urgency: 2 });
    s.set(8, { class: PriorityClass.Critical, urgency: 3 });
    s.ready(0);
    s.ready(4);
    s.ready(8);
    expect(s.next()).toBe(8);
    s.setGamingActive(true);
    expect(s.next()).toBe(4);
    s.idle(4);
    expect(s.next()).toBe(8);
    s.idle(8);
    expect(s.next()).toBe(0);
  });

  it('Bulk gets its minimum share while Critical saturates; without a share it waits', () => {
    const s = new StreamScheduler({ minShare: { [PriorityClass.Bulk]: 0.1 } });
    s.set(0, { class: PriorityClass.Critical });
    s.set(4, { class: PriorityClass.Bulk });
    const order = drain(s, new Map([[0, 1200 * 1000], [4, 1200 * 1000]]), 1200, 1000);
    const bulk = order.filter((id) => id === 4).length / order.length;
    expect(bulk).toBeGreaterThan(0.08);
    expect(bulk).toBeLessThan(0.12);
    const strict = new StreamScheduler({ minShare: { [PriorityClass.Bulk]: 0, [PriorityClass.Logs]: 0 } });
    strict.set(0, { class: PriorityClass.Critical });
    strict.set(4, { class: PriorityClass.Bulk });
    expect(drain(strict, new Map([[0, 1200 * 100], [4, 1200]]), 1200, 100).includes(4)).toBe(false);
  });

  it('fifo serves streams in the order they became ready, each to its end; round-robin alternates', () => {
    const f = new StreamScheduler({ mode: 'fifo' });
    f.set(0, { class: PriorityClass.Bulk });
    f.set(4, { class: PriorityClass.Critical });
    expect(drain(f, new Map([[0, 3600], [4, 1200]]))).toEqual([0, 0, 0, 4]);
    const r = new StreamScheduler({ mode: 'round-robin' });
    expect(drain(r, new Map([[0, 3600], [4, 2400]]))).toEqual([0, 4, 0, 4, 0]);
  });

  it('never loses or duplicates a ready stream under random operations (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ op: fc.constantFrom('ready', 'idle', 'set', 'send', 'delete'), id: fc.integer({ min: 0, max: 15 }), cls: fc.integer({ min: 0, max: 4 }), u: fc.integer({ min: 0, max: 7 }), inc: fc.boolean(), more: fc.boolean() }),
          { maxLength: 200 },
        ),
        (ops) => {
          const s = new StreamScheduler();
          const ready = new Set<number>();
          for (const o of ops) {
            if (o.op === 'ready') (s.ready(o.id), ready.add(o.id));
            else if (o.op === 'idle') (s.idle(o.id), ready.delete(o.id));
            else if (o.op === 'delete') (s.delete(o.id), ready.delete(o.id));
            else if (o.op === 'set') s.set(o.id, { class: o.cls as PriorityClass, urgency: o.u, incremental: o.inc });
            else {
              const id = s.next();
              if (ready.size === 0) expect(id).toBeUndefined();
              else {
                expect(ready.has(id!)).toBe(true);
                s.sent(id!, 1200, o.more);
                if (!o.more) ready.delete(id!);
              }
            }
            expect(s.size).toBe(ready.size);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the heap pops in order', () => {
    fc.assert(
      fc.property(fc.array(fc.nat()), (xs) => {
        const h = new MinHeap();
        for (const x of xs) h.push(x);
        const out: number[] = [];
        for (let v = h.pop(); v !== undefined; v = h.pop()) out.push(v);
        expect(out).toEqual([...xs].sort((a, b) => a - b));
      }),
    );
  });
});
