// A set of non-overlapping half-open ranges [start, end), sorted ascending: acknowledged or lost stream bytes.

export class RangeSet {
  /** Flat [start, end) pairs, ascending, merged when touching. */
  readonly r: number[] = [];

  get isEmpty(): boolean {
    return this.r.length === 0;
  }

  get size(): number {
    return this.r.length >> 1;
  }

  /** The first range, or undefined. */
  first(): [number, number] | undefined {
    return this.r.length === 0 ? undefined : [this.r[0]!, this.r[1]!];
  }

  add(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    let i = 0;
    while (i < r.length && r[i + 1]! < start) i += 2;
    let j = i;
    while (j < r.length && r[j]! <= end) {
      start = Math.min(start, r[j]!);
      end = Math.max(end, r[j + 1]!);
      j += 2;
    }
    r.splice(i, j - i, start, end);
  }

  remove(start: number, end: number): void {
    if (end <= start) return;
    const r = this.r;
    const out: number[] = [];
    for (let i = 0; i < r.length; i += 2) {
      const a = r[i]!;
      const b = r[i + 1]!;
      if (b <= start || a >= end) {
        out.push(a, b);
        continue;
      }
      if (a < start) out.push(a, start);
      if (b > end) out.push(end, b);
    }
    r.length = 0;
    r.push(...out);
  }

  /** Whether [start, end) is wholly contained. */
  contains(start: number, end: number): boolean {
    const r = this.r;
    for (let i = 0; i < r.length; i += 2) if (r[i]! <= start && end <= r[i + 1]!) return true;
    return false;
  }

  /** The end of the range starting at or before `offset` that covers it, or `offset` when none does. */
  contiguousEnd(offset: number): number {
    const r = this.r;
    for (let i = 0; i < r.length; i += 2) if (r[i]! <= offset && offset < r[i + 1]!) return r[i + 1]!;
    return offset;
  }
}
