// The measured claims of docs/performance.md: each scenario with its parameters, run on the simulated network
// (deterministic, seeded). performance.test.ts asserts them; run.ts prints them and rewrites the doc's tables.

import { bulkGoodput, gamingFlowWithBulk, messagesWithBulk, type GamingFlowResult, type MessagesResult } from '@gquic/testkit';
import type { CongestionControlName } from '@gquic/quic';
import type { SchedulerMode } from '@gquic/scheduler';

/** Claim 1's path: 50 Mbit/s, 20 ms RTT, a 100-packet queue. */
export const PATH_1 = { bandwidthBps: 50e6, rttMs: 20, queuePackets: 100 } as const;
/** Claim 3's path: 100 Mbit/s, 50 ms RTT, a queue of about one BDP. */
export const PATH_3 = { bandwidthBps: 100e6, rttMs: 50, queuePackets: 500 } as const;
/** The gaming controller with its window cap raised to about one BDP of PATH_1 (the default 32 KiB caps Bulk at 13 Mbit/s there). */
export const GAMING_BDP_CAP = 256 * 1024;

export function claim1(scheduler: SchedulerMode, cc: CongestionControlName, seconds = 4): MessagesResult {
  return messagesWithBulk({ ...PATH_1, cc, scheduler, seconds, warmupSeconds: 1 });
}

export function claim2(cc: CongestionControlName, maxGamingCwnd?: number, seconds = 5): GamingFlowResult {
  return gamingFlowWithBulk({ ...PATH_1, cc, seconds, warmupSeconds: 2, ...(maxGamingCwnd !== undefined ? { gaming: { maxGamingCwnd } } : {}) });
}

export function claim3(cc: CongestionControlName, loss: number, seconds = 4): number {
  return bulkGoodput({ ...PATH_3, cc, loss, seconds, warmupSeconds: 1, seed: 7 });
}
