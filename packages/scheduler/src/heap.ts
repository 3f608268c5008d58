// A binary min-heap of numbers (stream ids): O(log n) push and pop, O(1) peek.

export class MinHeap {
  private readonly a: number[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): number | undefined {
    return this.a[0];
  }

  push(v: number): void {
    const a = this.a;
    let i = a.length;
    a.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= v) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = v;
  }

  pop(): number | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && a[r]! < a[l]! ? r : l;
      if (a[c]! >= last) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/** A FIFO of numbers with O(1) amortized push and shift. */
export class Queue {
  private a: number[] = [];
  private head = 0;

  get size(): number {
    return this.a.length - this.head;
  }

  peek(): number | undefined {
    return this.a[this.head];
  }

  push(v: number): void {
    this.a.push(v);
  }

  shift(): number | undefined {
    if (this.head >= this.a.length) return undefined;
    const v = this.a[this.head++]!;
    if (this.head > 1024 && this.head * 2 > this.a.length) {
      this.a = this.a.slice(this.head);
      this.head = 0;
    }
    return v;
  }
}
