import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runs, seed } from '@gquic/testkit';
import { decodePacketNumber, packetNumberLength, truncatePacketNumber } from './packet-number.js';

describe('packet numbers (RFC 9000 §17.1, Appendix A.2/A.3)', () => {
  it('A.2: chooses 16 bits for 0xac5c02 after 0xabe8b3 and 24 bits for 0xace8fe', () => {
    expect(packetNumberLength(0xac5c02, 0xabe8b3)).toBe(2);
    expect(packetNumberLength(0xace8fe, 0xabe8b3)).toBe(3);
  });

  it('A.3: recovers 0xa82f9b32 from 0x9b32 after 0xa82f30ea', () => {
    expect(decodePacketNumber(0xa82f30ea, 0x9b32, 2)).toBe(0xa82f9b32);
  });

  it('RFC 9001 A.5: recovers 654360564 from its 3-byte encoding 0x00bff4', () => {
    expect(truncatePacketNumber(654360564, 3)).toBe(0x00bff4);
    expect(decodePacketNumber(654360563, 0x00bff4, 3)).toBe(654360564);
  });

  it('handles the first packet of a space (nothing received or acknowledged yet)', () => {
    expect(packetNumberLength(0, -1)).toBe(1);
    expect(decodePacketNumber(-1, 0, 1)).toBe(0);
  });

  it('property: a packet number encoded with the chosen length decodes back for a receiver that saw up to the acked one', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 2 ** 50 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.nat(), (largestAcked, ahead, recvOffset) => {
        const pn = largestAcked + ahead;
        const len = packetNumberLength(pn, largestAcked);
        // The receiver's largest received is between the largest acked and pn - 1.
        const largestReceived = largestAcked + (recvOffset % ahead);
        expect(decodePacketNumber(largestReceived, truncatePacketNumber(pn, len), len)).toBe(pn);
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });
});
