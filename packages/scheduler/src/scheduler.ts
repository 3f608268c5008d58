// The stream scheduler: which stream with data sends next.
//
// Container priority classes, highest first — Critical (start/stop/kill), Health (checks, monitoring),
// GamingTelemetry (raised to Critical's level while a game session is active), Logs, Bulk (image pulls,
// backups) — are served in strict priority, except that a class with a minimum share gets a turn whenever the
// bytes sent above it have earned it one, so Bulk is never starved forever. Inside a class RFC 9218 §10 applies:
// lower urgency first; at one urgency, non-incremental streams one at a time in stream-ID order, then
// incremental ones round-robin. Each decision costs O(log n) in the streams ready (a heap or a queue per
// class × urgency bucket; lazy deletion).
//
// 'fifo' and 'round-robin' modes exist for comparison: FIFO serves streams in the order they became ready, each
// until it has nothing left; round-robin ignores classes and urgency.

import { MinHeap, Queue } from './heap.js';

export const PriorityClass = { Critical: 0, Health: 1, GamingTelemetry: 2, Logs: 3, Bulk: 4 } as const;
export type PriorityClass = (typeof PriorityClass)[keyof typeof PriorityClass];
export const PRIORITY_CLASS_NAMES = ['critical', 'health', 'gaming_telemetry', 'logs', 'bulk'] as const;
const CLASSES = 5;
const URGENCIES = 8;

export interface StreamPriority {
  class: PriorityClass;
  /** RFC 9218 urgency, 0 (highest) to 7. */
  urgency: number;
  /** RFC 9218 incremental: share with other incremental streams of the same urgency. */
  incremental: boolean;
}

/** Streams nobody classified: Bulk, urgency 3, incremental (plain round-robin among them). */
export const DEFAULT_STREAM_PRIORITY: Readonly<StreamPriority> = { class: PriorityClass.Bulk, urgency: 3, incremental: true };

export type SchedulerMode = 'priority' | 'fifo' | 'round-robin';

export interface SchedulerOptions {
  mode?: SchedulerMode;
  /**
   * Minimum share of the bytes sent for a class while it has data (0..1). Default: Logs 5%, Bulk 5%. A class
   * earns `share × bytes` of credit for every byte another class sends while it waits; with a packet's worth of
   * credit it sends next.
   */
  minShare?: Partial<Record<PriorityClass, number>>;
  /** Bytes of credit that buy a turn (default 1200). */
  quantum?: number;
}

interface Entry {
  id: number;
  p: StreamPriority;
  ready: boolean;
  /** Bumped whenever the entry moves, so stale heap/queue slots are skipped. */
  gen: number;
  /** Where it sits now (bucket index), -1 when not ready. */
  bucket: number;
}

interface Bucket {
  seq: MinHeap;
  /** Round-robin line: ids, and beside them the generation each was queued at (stale slots are skipped). */
  rr: Queue;
  rrGen: Queue;
  /** Ready entries in this bucket (the structures may hold stale slots too). */
  count: number;
}

export class StreamScheduler {
  readonly mode: SchedulerMode;
  private readonly entries = new Map<number, Entry>();
  private readonly buckets: Bucket[] = [];
  /** Ready streams per class. */
  private readonly classCount = new Int32Array(CLASSES);
  private readonly share = new Float64Array(CLASSES);
  private readonly credit = new Float64Array(CLASSES);
  private readonly quantum: number;
  private gaming = false;
  /** 'fifo': readiness order; 'round-robin': one queue. Slots carry the generation they were queued at. */
  private readonly order = new Queue();
  private readonly orderGen = new Queue();
  private readyCount = 0;
  /** The ready ids, for callers that need to look at all of them. */
  private readonly readySet = new Set<number>();

  constructor(opts: SchedulerOptions = {}) {
    this.mode = opts.mode ?? 'priority';
    this.quantum = opts.quantum ?? 1200;
    const share = { [PriorityClass.Logs]: 0.05, [PriorityClass.Bulk]: 0.05, ...opts.minShare };
    for (let c = 0; c < CLASSES; c++) this.share[c] = Math.max(0, Math.min(1, share[c as PriorityClass] ?? 0));
    for (let i = 0; i < CLASSES * URGENCIES; i++) this.buckets.push({ seq: new MinHeap(), rr: new Queue(), rrGen: new Queue(), count: 0 });
  }

  /** While a game session is active, GamingTelemetry is served at Critical's level. */
  setGamingActive(active: boolean): void {
    this.gaming = active;
  }

  get gamingActive(): boolean {
    return this.gaming;
  }

  get size(): number {
    return this.readyCount;
  }

  priorityOf(id: number): Readonly<StreamPriority> {
    return this.entries.get(id)?.p ?? DEFAULT_STREAM_PRIORITY;
  }

  /** Sets (part of) a stream's priority; takes effect for its next turn. */
  set(id: number, p: Partial<StreamPriority>): void {
    const e = this.entry(id);
    const was = e.ready;
    if (was) this.unready(e);
    e.p = {
      class: p.class ?? e.p.class,
      urgency: p.urgency === undefined ? e.p.urgency : Math.max(0, Math.min(7, p.urgency | 0)),
      incremental: p.incremental ?? e.p.incremental,
    };
    if (was) this.makeReady(e);
  }

  /** The stream has data to send. */
  ready(id: number): void {
    const e = this.entry(id);
    if (!e.ready) this.makeReady(e);
  }

  /** The stream has nothing to send (or cannot, e.g. flow control): it leaves the line until `ready` again. */
  idle(id: number): void {
    const e = this.entries.get(id);
    if (e !== undefined && e.ready) this.unready(e);
  }

  /** The stream is gone. */
  delete(id: number): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    if (e.ready) this.unready(e);
    this.entries.delete(id);
  }

  /** Streams known (ready or not). */
  get entryCount(): number {
    return this.entries.size;
  }

  /** Forgets every stream for which `keep` is false (streams that closed without a `delete`). */
  prune(keep: (id: number) => boolean): void {
    for (const id of [...this.entries.keys()]) if (!keep(id)) this.delete(id);
  }

  isReady(id: number): boolean {
    return this.entries.get(id)?.ready ?? false;
  }

  /** Ids of the ready streams (any order). */
  readyIds(): IterableIterator<number> {
    return this.readySet.values();
  }

  private entry(id: number): Entry {
    let e = this.entries.get(id);
    if (e === undefined) {
      e = { id, p: { ...DEFAULT_STREAM_PRIORITY }, ready: false, gen: 0, bucket: -1 };
      this.entries.set(id, e);
    }
    return e;
  }

  private bucketOf(p: StreamPriority): number {
    return p.class * URGENCIES + p.urgency;
  }

  private makeReady(e: Entry): void {
    e.ready = true;
    e.gen++;
    this.readyCount++;
    this.readySet.add(e.id);
    if (this.mode !== 'priority') {
      this.order.push(e.id);
      this.orderGen.push(e.gen);
      return;
    }
    const bi = this.bucketOf(e.p);
    const b = this.buckets[bi]!;
    e.bucket = bi;
    b.count++;
    this.classCount[e.p.class]!++;
    if (e.p.incremental) {
      b.rr.push(e.id);
      b.rrGen.push(e.gen);
    } else b.seq.push(e.id);
  }

  private unready(e: Entry): void {
    e.ready = false;
    e.gen++;
    this.readyCount--;
    this.readySet.delete(e.id);
    if (this.mode !== 'priority') return;
    const b = this.buckets[e.bucket]!;
    b.count--;
    this.classCount[e.p.class]!--;
    e.bucket = -1;
  }

  /** A live slot: the entry is ready, in this bucket, and of the matching kind. */
  private live(id: number, bi: number, incremental: boolean): boolean {
    const e = this.entries.get(id);
    return e !== undefined && e.ready && e.bucket === bi && e.p.incremental === incremental;
  }

  /** The stream at the head of bucket `bi` (stale slots dropped), or undefined. */
  private headOf(bi: number): number | undefined {
    const b = this.buckets[bi]!;
    if (b.count === 0) return undefined;
    for (let id = b.seq.peek(); id !== undefined; id = b.seq.peek()) {
      if (this.live(id, bi, false)) return id;
      b.seq.pop();
    }
    for (let id = b.rr.peek(); id !== undefined; id = b.rr.peek()) {
      if (this.live(id, bi, true) && this.entries.get(id)!.gen === b.rrGen.peek()) return id;
      b.rr.shift();
      b.rrGen.shift();
    }
    return undefined;
  }

  /** The best ready stream of class `c`: lowest urgency, sequential before incremental. */
  private bestOf(c: number): { id: number; bucket: number } | undefined {
    if (this.classCount[c] === 0) return undefined;
    for (let u = 0; u < URGENCIES; u++) {
      const bi = c * URGENCIES + u;
      const id = this.headOf(bi);
      if (id !== undefined) return { id, bucket: bi };
    }
    return undefined;
  }

  /** The stream to send from next, or undefined when none is ready. It stays ready: report with `sent`. */
  next(): number | undefined {
    if (this.readyCount === 0) return undefined;
    if (this.mode !== 'priority') {
      for (let id = this.order.peek(); id !== undefined; id = this.order.peek()) {
        const e = this.entries.get(id);
        if (e !== undefined && e.ready && this.orderGen.peek() === e.gen) return id;
        this.order.shift();
        this.orderGen.shift();
      }
      return undefined;
    }
    // A class owed its minimum share goes first (the highest such class).
    for (let c = 0; c < CLASSES; c++) {
      if (this.credit[c]! >= this.quantum && this.classCount[c]! > 0) {
        const b = this.bestOf(c);
        if (b !== undefined) return b.id;
      }
    }
    // Strict priority; GamingTelemetry shares Critical's level during a game session (urgency decides, then Critical).
    const crit = this.bestOf(PriorityClass.Critical);
    if (this.gaming) {
      const game = this.bestOf(PriorityClass.GamingTelemetry);
      if (game !== undefined && (crit === undefined || game.bucket % URGENCIES < crit.bucket % URGENCIES)) return game.id;
    }
    if (crit !== undefined) return crit.id;
    for (let c = 1; c < CLASSES; c++) {
      if (c === PriorityClass.GamingTelemetry && this.gaming) continue;
      const b = this.bestOf(c);
      if (b !== undefined) return b.id;
    }
    return undefined;
  }

  /**
   * `bytes` of stream `id` went out; `more`: it still has data. Sequential streams keep their place, incremental
   * ones go to the back of their bucket, and waiting classes earn their minimum share.
   */
  sent(id: number, bytes: number, more: boolean): void {
    const e = this.entries.get(id);
    if (e === undefined) return;
    if (this.mode === 'priority') {
      const c = e.p.class;
      this.credit[c] = Math.max(0, this.credit[c]! - bytes);
      for (let k = 0; k < CLASSES; k++) {
        if (k === c || this.share[k] === 0) continue;
        if (this.classCount[k]! > 0) this.credit[k] = Math.min(this.credit[k]! + this.share[k]! * bytes, 4 * this.quantum);
        else this.credit[k] = 0; // nothing waiting: no credit piles up
      }
    }
    if (!more) {
      if (e.ready) this.unready(e);
      return;
    }
    if (!e.ready) {
      this.makeReady(e);
      return;
    }
    if (this.mode === 'fifo') return; // keeps its turn until it has nothing left
    if (this.mode === 'round-robin' || e.p.incremental) {
      // To the back of the line.
      this.unready(e);
      this.makeReady(e);
    }
  }
}
