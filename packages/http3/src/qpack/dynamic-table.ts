// The QPACK dynamic table (RFC 9204 §3.2): FIFO entries addressed by absolute index, sized as
// name + value + 32 octets, with eviction from the oldest end.

export interface TableEntry {
  name: string;
  value: string;
  size: number;
}

/** RFC 9204 §3.2.1 */
export const ENTRY_OVERHEAD = 32;

export function entrySize(name: string, value: string): number {
  return name.length + value.length + ENTRY_OVERHEAD;
}

export class DynamicTable {
  /** Entries still in the table, oldest first: entries[i] has absolute index `dropped + i`. */
  private entries: TableEntry[] = [];
  private head = 0;
  /** Absolute index of the oldest entry still in the table. */
  dropped = 0;
  /** Entries ever inserted (the Insert Count, §3.2.4). */
  insertCount = 0;
  size = 0;
  capacity = 0;

  constructor(readonly maxCapacity: number) {}

  get length(): number {
    return this.insertCount - this.dropped;
  }

  get(absolute: number): TableEntry | undefined {
    if (absolute < this.dropped || absolute >= this.insertCount) return undefined;
    return this.entries[this.head + absolute - this.dropped];
  }

  /** Whether `size` more octets fit after evicting entries up to (not including) absolute index `limit`. */
  fits(size: number, limit: number): boolean {
    if (size > this.capacity) return false;
    let free = this.capacity - this.size;
    for (let a = this.dropped; free < size && a < limit; a++) free += this.get(a)!.size;
    return free >= size;
  }

  /** Appends an entry, evicting the oldest ones to make room; the caller checked that it fits. */
  insert(name: string, value: string, onEvict?: (absolute: number, e: TableEntry) => void): number {
    const e = { name, value, size: entrySize(name, value) };
    this.evictTo(this.capacity - e.size, onEvict);
    this.entries.push(e);
    this.size += e.size;
    return this.insertCount++;
  }

  setCapacity(capacity: number, onEvict?: (absolute: number, e: TableEntry) => void): void {
    this.capacity = capacity;
    this.evictTo(capacity, onEvict);
  }

  private evictTo(target: number, onEvict?: (absolute: number, e: TableEntry) => void): void {
    while (this.size > target && this.length > 0) {
      const e = this.entries[this.head]!;
      onEvict?.(this.dropped, e);
      this.head++;
      this.dropped++;
      this.size -= e.size;
    }
    // Compact now and then so the array does not grow without bound.
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
