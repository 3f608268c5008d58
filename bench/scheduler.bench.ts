// @gquic/scheduler: the cost of one scheduling decision (next + sent) as the number of ready streams grows, in
// each mode — it should stay flat-ish (O(log n)): 10, 1,000 and 10,000 streams.

import { PriorityClass, StreamScheduler, type SchedulerMode } from '@gquic/scheduler';
import { runCases, type Case, type Row } from './lib.js';

const BATCH = 10_000;

function scheduler(mode: SchedulerMode, n: number): StreamScheduler {
  const s = new StreamScheduler({ mode });
  for (let i = 0; i < n; i++) {
    const id = i * 4;
    // A mix: classes round-robin over the five, urgencies over eight, half incremental.
    s.set(id, { class: (i % 5) as PriorityClass, urgency: i % 8, incremental: i % 2 === 0 });
    s.ready(id);
  }
  return s;
}

export async function benchScheduler(): Promise<Row[]> {
  const cases: Case[] = [];
  for (const mode of ['priority', 'round-robin', 'fifo'] as const) {
    for (const n of [10, 1000, 10_000]) {
      const s = scheduler(mode, n);
      cases.push({
        name: `${mode}, ${n} ready streams`,
        batch: BATCH,
        fn: () => {
          for (let i = 0; i < BATCH; i++) {
            const id = s.next()!;
            s.sent(id, 1200, true);
          }
        },
      });
    }
  }
  return runCases('Scheduling decisions (next + sent), per decision', cases);
}
