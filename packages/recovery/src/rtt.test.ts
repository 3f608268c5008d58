import { describe, expect, it } from 'vitest';
import { K_INITIAL_RTT_US, RttEstimator } from './rtt.js';

describe('RTT estimation (RFC 9002 §5)', () => {
  it('starts from kInitialRtt and takes the first sample whole', () => {
    const r = new RttEstimator();
    expect(r.smoothedRtt).toBe(K_INITIAL_RTT_US);
    expect(r.pto(0)).toBe(K_INITIAL_RTT_US + 4 * (K_INITIAL_RTT_US / 2));
    r.update(100_000, 5_000, false, 25_000, 0);
    expect([r.minRtt, r.smoothedRtt, r.rttVar]).toEqual([100_000, 100_000, 50_000]);
  });

  it('subtracts the ack delay, capped by max_ack_delay once confirmed and never below min_rtt', () => {
    const r = new RttEstimator();
    r.update(100_000, 0, true, 25_000, 0);
    // latest 160 ms with 50 ms reported delay, capped to 25 ms: adjusted 135 ms.
    r.update(160_000, 50_000, true, 25_000, 1);
    expect(r.smoothedRtt).toBeCloseTo((7 / 8) * 100_000 + (1 / 8) * 135_000);
    expect(r.rttVar).toBeCloseTo((3 / 4) * 50_000 + (1 / 4) * 35_000);
    // Not subtracted when that would go below min_rtt.
    const s = new RttEstimator();
    s.update(100_000, 0, true, 25_000, 0);
    s.update(110_000, 20_000, true, 25_000, 1);
    expect(s.smoothedRtt).toBeCloseTo((7 / 8) * 100_000 + (1 / 8) * 110_000);
    expect(s.minRtt).toBe(100_000);
  });
});
