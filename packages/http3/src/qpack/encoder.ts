// The QPACK encoder (RFC 9204 §2.1, §4.3-4.5), single pass per field section:
//   static exact match → indexed; dynamic exact match → indexed (if it cannot block, or blocking is allowed);
//   otherwise insert (when worth it and room can be made by evicting evictable entries) and index the new entry —
//   or, when this stream may not block, insert it for later sections and send a literal now;
//   otherwise a literal, with a static or dynamic name reference when there is one.
// Sensitive fields (authorization, short cookies, ...) are never indexed and carry the N bit (§4.5.4, §7.1.3).
// The encoder tracks every reference until the decoder acknowledges the section, so it never evicts an entry the
// peer might still need (§2.1.1), and it blocks at most SETTINGS_QPACK_BLOCKED_STREAMS streams (§2.1.2).

import { DynamicTable, ENTRY_OVERHEAD, entrySize } from './dynamic-table.js';
import type { FieldLine } from './decoder.js';
import { QpackError, QpackErrorCode } from './errors.js';
import { QpackReader, QpackWriter, TRUNCATED, joinPending, octets } from './primitives.js';
import { STATIC_TABLE } from './static-table.js';

export interface QpackEncoderOptions {
  /** The most dynamic table memory we are willing to use, whatever the peer allows (default 4096). */
  maxTableCapacity?: number;
}

const STATIC_EXACT = new Map<string, number>();
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([n, v], i) => {
  STATIC_EXACT.set(`${n}\0${v}`, i);
  if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i);
});

/** Fields whose values must not be exposed to compression-based attacks (RFC 9204 §7.1, RFC 7541 §7.1.3). */
function sensitive(name: string, value: string): boolean {
  return name === 'authorization' || name === 'proxy-authorization' || name === 'set-cookie' || (name === 'cookie' && value.length < 20);
}

interface Section {
  required: number;
  refs: number[];
}

export class QpackEncoder {
  private table = new DynamicTable(0);
  private readonly limit: number;
  private peerMaxEntries = 0;
  private peerBlocked = 0;
  /** The decoder's Known Received Count (§2.1.4). */
  private knownReceived = 0;
  /** Outstanding references per absolute index. */
  private readonly refCount = new Map<number, number>();
  /** Unacknowledged field sections with dynamic references, per stream, oldest first. */
  private readonly unacked = new Map<number, Section[]>();
  private readonly exact = new Map<string, number>();
  private readonly byName = new Map<string, number>();
  private readonly encoderStream = new QpackWriter(256);
  private readonly section = new QpackWriter(256);
  private readonly reader = new QpackReader();
  private pending: Uint8Array = new Uint8Array(0);

  constructor(opts: QpackEncoderOptions = {}) {
    this.limit = opts.maxTableCapacity ?? 4096;
  }

  /**
   * The peer's SETTINGS_QPACK_MAX_TABLE_CAPACITY and SETTINGS_QPACK_BLOCKED_STREAMS (RFC 9204 §5). Until they
   * arrive the encoder uses the static table only (the defaults are 0).
   */
  applyPeerSettings(maxTableCapacity: number, blockedStreams: number): void {
    this.peerMaxEntries = Math.floor(maxTableCapacity / ENTRY_OVERHEAD);
    this.peerBlocked = blockedStreams;
    const capacity = Math.min(maxTableCapacity, this.limit);
    this.table = new DynamicTable(maxTableCapacity);
    if (capacity > 0) {
      this.table.setCapacity(capacity);
      this.encoderStream.int(5, 0x20, capacity); // Set Dynamic Table Capacity (§4.3.1)
    }
  }

  /** Encoder stream bytes to send, or undefined. */
  takeEncoderStream(): Uint8Array | undefined {
    if (this.encoderStream.pos === 0) return undefined;
    const b = this.encoderStream.bytes();
    this.encoderStream.reset();
    return b;
  }

  /** Streams that have references the decoder has not acknowledged and that could block (§2.1.2). */
  private blockingStreams(): number {
    let n = 0;
    for (const list of this.unacked.values()) if (list.some((s) => s.required > this.knownReceived)) n++;
    return n;
  }

  /** The encoded field section for `lines` on `streamId` (a HEADERS frame payload). */
  encode(streamId: number, lines: readonly FieldLine[]): Uint8Array {
    const t = this.table;
    const dynamic = t.capacity > 0;
    const streamBlocks = this.unacked.get(streamId)?.some((s) => s.required > this.knownReceived) ?? false;
    const canBlock = dynamic && (streamBlocks || this.blockingStreams() < this.peerBlocked);
    // First pass: choose each line's representation, inserting as we go; references are absolute indices.
    const kinds: number[] = [];
    const args: number[] = [];
    const refs: number[] = [];
    let required = 0;
    // Counted at once, so that a later insertion in this section cannot evict an entry it already references.
    const ref = (abs: number): void => {
      refs.push(abs);
      this.refCount.set(abs, (this.refCount.get(abs) ?? 0) + 1);
      if (abs + 1 > required) required = abs + 1;
    };
    const usable = (abs: number | undefined): abs is number => abs !== undefined && abs >= t.dropped && (abs < this.knownReceived || canBlock);
    for (let i = 0; i < lines.length; i++) {
      const [name, value] = lines[i]!;
      const key = `${name}\0${value}`;
      const st = STATIC_EXACT.get(key);
      if (st !== undefined) {
        kinds.push(K_STATIC);
        args.push(st);
        continue;
      }
      const never = sensitive(name, value);
      if (dynamic && !never) {
        const abs = this.exact.get(key);
        if (usable(abs)) {
          kinds.push(K_DYNAMIC);
          args.push(abs);
          ref(abs);
          continue;
        }
        const size = entrySize(name, value);
        if (abs === undefined && size <= (t.capacity * 3) / 4 && t.fits(size, this.evictionLimit())) {
          const inserted = this.insert(name, value);
          if (canBlock) {
            kinds.push(K_DYNAMIC);
            args.push(inserted);
            ref(inserted);
            continue;
          }
          // Not allowed to block: a literal now; later sections reference the entry once it is acknowledged.
        }
      }
      const sn = STATIC_NAME.get(name);
      const dn = this.byName.get(name);
      if (sn !== undefined) {
        kinds.push(never ? K_LIT_STATIC_NAME_NEVER : K_LIT_STATIC_NAME);
        args.push(sn);
      } else if (dynamic && usable(dn)) {
        kinds.push(never ? K_LIT_DYNAMIC_NAME_NEVER : K_LIT_DYNAMIC_NAME);
        args.push(dn);
        ref(dn);
      } else {
        kinds.push(never ? K_LIT_NAME_NEVER : K_LIT_NAME);
        args.push(0);
      }
    }
    // Second pass: the prefix (§4.5.1) with Base = the insert count now, so no post-base references are needed.
    const w = this.section.reset();
    const base = t.insertCount;
    w.int(8, 0, required === 0 ? 0 : (required % (2 * this.peerMaxEntries)) + 1);
    w.int(7, 0, required === 0 ? 0 : base - required);
    for (let i = 0; i < lines.length; i++) {
      const [name, value] = lines[i]!;
      const a = args[i]!;
      switch (kinds[i]) {
        case K_STATIC:
          w.int(6, 0xc0, a);
          break;
        case K_DYNAMIC:
          w.int(6, 0x80, base - 1 - a);
          break;
        case K_LIT_STATIC_NAME:
        case K_LIT_STATIC_NAME_NEVER:
          w.int(4, kinds[i] === K_LIT_STATIC_NAME_NEVER ? 0x70 : 0x50, a);
          w.string(7, 0, octets(value));
          break;
        case K_LIT_DYNAMIC_NAME:
        case K_LIT_DYNAMIC_NAME_NEVER:
          w.int(4, kinds[i] === K_LIT_DYNAMIC_NAME_NEVER ? 0x60 : 0x40, base - 1 - a);
          w.string(7, 0, octets(value));
          break;
        default:
          w.string(3, kinds[i] === K_LIT_NAME_NEVER ? 0x30 : 0x20, octets(name));
          w.string(7, 0, octets(value));
      }
    }
    if (required > 0) {
      let list = this.unacked.get(streamId);
      if (list === undefined) this.unacked.set(streamId, (list = []));
      list.push({ required, refs });
    }
    return w.bytes();
  }

  /** The first absolute index that is not evictable: acknowledged and unreferenced entries before it may go. */
  private evictionLimit(): number {
    const t = this.table;
    let a = t.dropped;
    while (a < t.insertCount && a < this.knownReceived && (this.refCount.get(a) ?? 0) === 0) a++;
    return a;
  }

  private insert(name: string, value: string): number {
    const t = this.table;
    // Encoder stream instruction (§4.3.2-4.3.3) first: a name reference is resolved before the insertion evicts.
    const sn = STATIC_NAME.get(name);
    const dn = this.byName.get(name);
    if (sn !== undefined) {
      this.encoderStream.int(6, 0xc0, sn);
    } else if (dn !== undefined && dn >= t.dropped) {
      this.encoderStream.int(6, 0x80, t.insertCount - 1 - dn);
    } else {
      this.encoderStream.string(5, 0x40, octets(name));
    }
    this.encoderStream.string(7, 0, octets(value));
    const abs = t.insert(name, value, (evicted, e) => {
      const key = `${e.name}\0${e.value}`;
      if (this.exact.get(key) === evicted) this.exact.delete(key);
      if (this.byName.get(e.name) === evicted) this.byName.delete(e.name);
    });
    this.exact.set(`${name}\0${value}`, abs);
    this.byName.set(name, abs);
    return abs;
  }

  /** Decoder stream data (§4.4). Throws QPACK_DECODER_STREAM_ERROR for bad instructions. */
  onDecoderStream(data: Uint8Array): void {
    const buf = joinPending(this.pending, data);
    const r = this.reader.reset(buf, 0, buf.length, QpackErrorCode.DECODER_STREAM_ERROR);
    while (r.remaining > 0) {
      const start = r.pos;
      try {
        const b = r.byte();
        if ((b & 0x80) !== 0) this.onSectionAck(r.int(7));
        else if ((b & 0x40) !== 0) this.onCancel(r.int(6));
        else this.onIncrement(r.int(6));
      } catch (e) {
        if (e !== TRUNCATED) throw e;
        r.pos = start;
        break;
      }
    }
    // An instruction is at most a few bytes: anything longer is not one.
    if (buf.length - r.pos > 16) throw new QpackError(QpackErrorCode.DECODER_STREAM_ERROR, 'malformed instruction');
    this.pending = buf.slice(r.pos);
  }

  private release(s: Section): void {
    for (const a of s.refs) {
      const n = (this.refCount.get(a) ?? 0) - 1;
      if (n <= 0) this.refCount.delete(a);
      else this.refCount.set(a, n);
    }
  }

  private onSectionAck(streamId: number): void {
    const list = this.unacked.get(streamId);
    const s = list?.shift();
    if (s === undefined) throw new QpackError(QpackErrorCode.DECODER_STREAM_ERROR, `Section Acknowledgment for stream ${streamId} with nothing outstanding`);
    if (list!.length === 0) this.unacked.delete(streamId);
    this.release(s);
    if (s.required > this.knownReceived) this.knownReceived = s.required;
  }

  private onCancel(streamId: number): void {
    const list = this.unacked.get(streamId);
    if (list === undefined) return;
    for (const s of list) this.release(s);
    this.unacked.delete(streamId);
  }

  private onIncrement(n: number): void {
    if (n === 0 || this.knownReceived + n > this.table.insertCount) throw new QpackError(QpackErrorCode.DECODER_STREAM_ERROR, `invalid Insert Count Increment ${n}`);
    this.knownReceived += n;
  }

  /** Dynamic table state, for stats and tests. */
  get stats(): { capacity: number; size: number; entries: number; knownReceived: number; blockingStreams: number } {
    return { capacity: this.table.capacity, size: this.table.size, entries: this.table.length, knownReceived: this.knownReceived, blockingStreams: this.blockingStreams() };
  }
}

const K_STATIC = 0;
const K_DYNAMIC = 1;
const K_LIT_STATIC_NAME = 2;
const K_LIT_STATIC_NAME_NEVER = 3;
const K_LIT_DYNAMIC_NAME = 4;
const K_LIT_DYNAMIC_NAME_NEVER = 5;
const K_LIT_NAME = 6;
const K_LIT_NAME_NEVER = 7;
