// RFC 9000 §17.1 and Appendix A.2/A.3: packet number truncation and recovery.
// Packet numbers are < 2^62; as numbers they stay exact because no connection sends 2^53 packets
// (the connection closes long before: see docs/varints.md).

/**
 * RFC 9000 Appendix A.2: how many bytes (1-4) to encode `pn` with, given the largest packet number the peer
 * has acknowledged (-1 when none), so that the peer can recover it.
 */
export function packetNumberLength(pn: number, largestAcked: number): 1 | 2 | 3 | 4 {
  // The number of packets in flight, doubled so the window is twice as large as the range in use.
  const numUnacked = largestAcked < 0 ? pn + 1 : pn - largestAcked;
  if (numUnacked < 0x80) return 1;
  if (numUnacked < 0x8000) return 2;
  if (numUnacked < 0x80_0000) return 3;
  if (numUnacked < 0x8000_0000) return 4;
  throw new RangeError(`packet number ${pn} too far ahead of largest acknowledged ${largestAcked}`);
}

/** The low `len` bytes of `pn`. */
export function truncatePacketNumber(pn: number, len: number): number {
  return pn % 2 ** (8 * len);
}

/**
 * RFC 9000 Appendix A.3: the full packet number from its truncated form (`pnLen` bytes) and the largest
 * packet number successfully processed in this space (-1 when none). Arithmetic stays within doubles.
 */
export function decodePacketNumber(largestPn: number, truncatedPn: number, pnLen: number): number {
  const expected = largestPn + 1;
  const win = 2 ** (8 * pnLen);
  const hwin = win / 2;
  const candidate = expected - (expected % win) + truncatedPn;
  if (candidate <= expected - hwin && candidate < 2 ** 62 - win) return candidate + win;
  if (candidate > expected + hwin && candidate >= win) return candidate - win;
  return candidate;
}
