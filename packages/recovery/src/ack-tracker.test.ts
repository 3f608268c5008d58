import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs, seed } from '@gquic/testkit';
import { AckTracker } from './ack-tracker.js';

describe('ACK tracking (RFC 9000 §13.2)', () => {
  it('keeps descending, merged ranges and spots duplicates', () => {
    const t = new AckTracker(false);
    for (const pn of [0, 1, 2, 5, 7, 6, 10]) t.onPacketReceived(pn, true, 0, 25_000);
    expect(t.ranges).toEqual([10, 10, 7, 5, 2, 0]);
    t.onPacketReceived(4, true, 0, 25_000);
    t.onPacketReceived(3, true, 0, 25_000);
    expect(t.ranges).toEqual([10, 10, 7, 0]);
    expect([1, 7, 10, 8, 11].map((pn) => t.isDuplicate(pn))).toEqual([true, true, true, false, false]);
  });

  it('asks for an ACK within max_ack_delay, at once for the second packet or out of order, always at once for Initial/Handshake', () => {
    const t = new AckTracker(false);
    t.onPacketReceived(0, true, 1000, 25_000);
    expect(t.ackDeadline).toBe(26_000);
    t.onPacketReceived(1, true, 2000, 25_000);
    expect(t.ackDeadline).toBe(2000);
    t.onAckSent();
    t.onPacketReceived(3, true, 3000, 25_000);
    expect(t.ackDeadline).toBe(3000); // gap
    t.onAckSent();
    t.onPacketReceived(4, false, 4000, 25_000);
    expect(t.ackPending).toBe(false); // not ack-eliciting
    const i = new AckTracker(true);
    i.onPacketReceived(0, true, 5, 25_000);
    expect(i.ackDeadline).toBe(5);
  });

  it('caps the ranges it remembers and treats anything older as duplicate', () => {
    const t = new AckTracker(false, 4);
    for (let pn = 0; pn < 20; pn += 2) t.onPacketReceived(pn, true, 0, 25_000);
    expect(t.ranges).toEqual([18, 18, 16, 16, 14, 14, 12, 12]);
    expect(t.isDuplicate(3)).toBe(true);
    expect(t.isDuplicate(13)).toBe(false);
  });

  it('the ranges always equal the set of received packet numbers (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 200 }), (pns) => {
        const t = new AckTracker(false, 1000);
        const seen = new Set<number>();
        for (const pn of pns) {
          expect(t.isDuplicate(pn)).toBe(seen.has(pn));
          if (!seen.has(pn)) t.onPacketReceived(pn, true, 0, 1);
          seen.add(pn);
        }
        const fromRanges = new Set<number>();
        for (let i = 0; i < t.ranges.length; i += 2) {
          if (i > 0) expect(t.ranges[i]!).toBeLessThan(t.ranges[i - 1]! - 1);
          for (let pn = t.ranges[i + 1]!; pn <= t.ranges[i]!; pn++) fromRanges.add(pn);
        }
        expect([...fromRanges].sort((a, b) => a - b)).toEqual([...seen].sort((a, b) => a - b));
      }),
      { numRuns: runs(500), ...seed() },
    );
  });
});
