// The measured claims (docs/performance.md) as tests with margins, on the deterministic simulated network.

import { describe, expect, it } from 'vitest';
import { GAMING_BDP_CAP, PATH_1, claim1, claim2, claim3 } from './performance/claims.js';

const RTT = PATH_1.rttMs;

describe('claim 1: small Critical and Health messages beside a saturating Bulk upload (50 Mbit/s, 20 ms, 100-packet queue)', () => {
  it('p99 at least 10x lower than FIFO, and within 1 RTT + 5 ms (BBR keeps the queue short)', () => {
    const ours = claim1('priority', 'bbr');
    const fifo = claim1('fifo', 'bbr');
    for (const k of ['critical', 'health'] as const) {
      expect(ours[k].count).toBeGreaterThan(100);
      expect(ours[k].undelivered).toBe(0);
      expect(ours[k].p99).toBeLessThanOrEqual(RTT + 5);
      expect(fifo[k].p99).toBeGreaterThanOrEqual(10 * ours[k].p99);
    }
    expect(ours.bulkMbps).toBeGreaterThan(40); // Bulk still fills the link
  });

  it('with a loss-based controller the queue, not the scheduler, sets the floor: still far ahead of FIFO', () => {
    const ours = claim1('priority', 'cubic');
    const fifo = claim1('fifo', 'cubic');
    expect(ours.critical.undelivered).toBe(0);
    // A full 100-packet queue at 50 Mbit/s is 19 ms, plus the 10 ms one-way delay.
    expect(ours.critical.p99).toBeLessThan(RTT / 2 + 19.2 + 2);
    expect(fifo.critical.p99).toBeGreaterThanOrEqual(10 * ours.critical.p99);
  });
});

describe("claim 2: a game's own UDP flow (60 pkt/s x 200 B) sharing the bottleneck with our Bulk upload", () => {
  it('the gaming controller keeps its p99 queueing delay within targetGamingRtt (5 ms) using at least half the spare capacity', () => {
    const g = claim2('gaming', GAMING_BDP_CAP);
    expect(g.loss).toBe(0);
    expect(g.delay.p99).toBeLessThanOrEqual(5);
    expect(g.bulkMbps).toBeGreaterThanOrEqual(0.5 * g.spareMbps);
  });

  it('loss-based controllers fill the queue (NewReno, CUBIC p99 well above 5 ms); the default 32 KiB cap trades throughput for delay', () => {
    expect(claim2('newreno').delay.p99).toBeGreaterThan(10);
    expect(claim2('cubic').delay.p99).toBeGreaterThan(10);
    const capped = claim2('gaming');
    expect(capped.delay.p99).toBeLessThanOrEqual(5);
    expect(capped.bulkMbps).toBeLessThan(14); // 32 KiB per 20 ms
  });
});

describe('claim 3: Bulk goodput on 100 Mbit/s, 50 ms RTT with random loss', () => {
  it('all fill the link without loss; BBR holds most of it at 1% and stays well ahead at 3%; NewReno and CUBIC collapse (the Mathis bound)', () => {
    for (const cc of ['newreno', 'cubic', 'bbr'] as const) expect(claim3(cc, 0)).toBeGreaterThan(85);
    const bbr1 = claim3('bbr', 0.01);
    const bbr3 = claim3('bbr', 0.03);
    expect(bbr1).toBeGreaterThan(70);
    const reno1 = claim3('newreno', 0.01);
    const reno3 = claim3('newreno', 0.03);
    // Mathis et al.: MSS/RTT * 1.22/sqrt(p) = 2.3 Mbit/s at 1%.
    expect(reno1).toBeLessThan(5);
    expect(bbr1).toBeGreaterThan(10 * reno1);
    // Above BBRv3's 2% loss threshold its bounds come down every round: far less than at 1%, still well ahead.
    expect(bbr3).toBeLessThan(bbr1);
    expect(bbr3).toBeGreaterThan(5 * reno3);
  });
});
