// Datagram Packetization Layer PMTU Discovery (RFC 8899, as RFC 9000 §14.3 applies it): once the handshake is
// confirmed, probe sizes between the 1200-byte base and the largest both sides allow with PING+PADDING packets,
// searching by bisection; a probe lost three times at one size caps the search below it. Probe losses are not
// congestion. Black holes: when several packets above the base in a row are lost while none of that size gets
// through, fall back to the base and search again later.

/** RFC 9000 §14: every path carries 1200-byte datagrams. */
export const BASE_PLPMTU = 1200;
/** Probes per size before giving up on it (RFC 8899 §5.1.2 MAX_PROBES). */
export const MAX_PROBES = 3;
/** Stop searching when the bracket is this narrow. */
const SEARCH_PRECISION = 16;
/** Large packets lost in a row, with none acknowledged, that mean a black hole. */
const BLACK_HOLE_LOSSES = 6;
/** Search again this long after it finished or after a black hole (µs; RFC 8899 suggests 600 s for raises). */
export const RESEARCH_INTERVAL_US = 60_000_000;

export class MtuDiscovery {
  /** The datagram size in use. */
  current = BASE_PLPMTU;
  private lo = BASE_PLPMTU;
  private hi: number;
  private probing = 0;
  private failures = 0;
  private nextSearchAt = 0;
  private largeLostInARow = 0;
  /** Times the path fell back to the base size (stats). */
  blackHoles = 0;

  constructor(private max: number) {
    this.hi = max;
  }

  /** Lower the ceiling (the peer's max_udp_payload_size, known once its parameters arrive). */
  limit(max: number): void {
    this.max = Math.max(BASE_PLPMTU, Math.min(this.max, max));
    this.hi = Math.min(this.hi, this.max);
    if (this.current > this.max) this.current = this.lo = this.max;
  }

  /** The size to probe now, or 0. */
  probeSize(now: number): number {
    if (this.probing > 0 || now < this.nextSearchAt || this.hi - this.lo < SEARCH_PRECISION) return 0;
    return this.lo === this.current && this.hi === this.max && this.failures === 0 ? this.hi : Math.ceil((this.lo + this.hi) / 2);
  }

  onProbeSent(size: number): void {
    this.probing = size;
  }

  onProbeAcked(size: number, now: number): boolean {
    this.probing = 0;
    this.failures = 0;
    if (size <= this.current) return false;
    this.current = this.lo = size;
    if (this.hi - this.lo < SEARCH_PRECISION) this.nextSearchAt = now + RESEARCH_INTERVAL_US;
    return true;
  }

  onProbeLost(size: number): void {
    this.probing = 0;
    if (++this.failures >= MAX_PROBES) {
      this.hi = size - 1;
      this.failures = 0;
    }
  }

  /** A non-probe packet of `size` was acknowledged or lost: black hole detection. Returns true on fallback. */
  onPacket(size: number, lost: boolean, now: number): boolean {
    // Packets at or below the base say nothing; neither do ones larger than the current size (sent before a
    // fallback, still being declared lost).
    if (size <= BASE_PLPMTU || size > this.current) return false;
    if (!lost) {
      this.largeLostInARow = 0;
      return false;
    }
    if (++this.largeLostInARow < BLACK_HOLE_LOSSES) return false;
    return this.fallBack(now);
  }

  /**
   * Repeated probe timeouts with nothing acknowledged (RFC 8899 §4.3): when every datagram is lost, no loss is
   * ever declared, so the PTO count is the signal. Returns true on fallback.
   */
  onRepeatedTimeouts(now: number): boolean {
    return this.current > BASE_PLPMTU && this.fallBack(now);
  }

  private fallBack(now: number): boolean {
    // Black hole: back to the base; the failed size caps the next search, which starts later.
    this.hi = Math.max(BASE_PLPMTU, Math.min(this.hi, this.current - 1));
    this.current = this.lo = BASE_PLPMTU;
    this.largeLostInARow = 0;
    this.failures = 0;
    this.probing = 0;
    this.nextSearchAt = now + RESEARCH_INTERVAL_US / 6;
    this.blackHoles++;
    return true;
  }
}
