// The QPACK decoder (RFC 9204 §2.2, §4.3-4.5): applies the peer's encoder stream to our dynamic table, decodes
// field sections (holding back the ones that need entries not yet received), and produces the decoder stream
// (Section Acknowledgment, Stream Cancellation, Insert Count Increment).
//
// Limits, all explicit: our table capacity (SETTINGS_QPACK_MAX_TABLE_CAPACITY), blocked streams
// (SETTINGS_QPACK_BLOCKED_STREAMS), the decoded size of one field section, and the encoder stream bytes buffered
// while an instruction is incomplete.

import { DynamicTable, ENTRY_OVERHEAD } from './dynamic-table.js';
import { QpackError, QpackErrorCode } from './errors.js';
import { QpackReader, QpackWriter, TRUNCATED, joinPending } from './primitives.js';
import { STATIC_TABLE } from './static-table.js';

export type FieldLine = [name: string, value: string];

export interface QpackDecoderOptions {
  /** SETTINGS_QPACK_MAX_TABLE_CAPACITY we advertise (0: no dynamic table). */
  maxTableCapacity: number;
  /** SETTINGS_QPACK_BLOCKED_STREAMS we advertise. */
  maxBlockedStreams: number;
  /** Largest decoded field section (sum of name + value + 32 per line, RFC 9114 §4.2.2); default 64 KiB. */
  maxFieldSectionSize?: number;
}

/** HTTP/3 H3_EXCESSIVE_LOAD (RFC 9114 §8.1): a field section larger than we accept. */
export const H3_EXCESSIVE_LOAD = 0x107;
/** An encoder instruction can be no longer than an entry of the largest table plus its framing. */
const INSTRUCTION_SLACK = 64;

export class QpackDecoder {
  readonly table: DynamicTable;
  private readonly maxEntries: number;
  private readonly maxBlocked: number;
  private readonly maxSection: number;
  private readonly reader = new QpackReader();
  private readonly out = new QpackWriter(64);
  /** Encoder stream bytes not yet parsed (an incomplete instruction). */
  private pending: Uint8Array = new Uint8Array(0);
  /** Blocked field sections: stream id → section and the insert count it waits for. */
  private readonly blocked = new Map<number, { block: Uint8Array; required: number }>();
  /** The insert count the encoder knows we have (through acknowledgments and increments). */
  private acknowledged = 0;

  constructor(opts: QpackDecoderOptions) {
    this.table = new DynamicTable(opts.maxTableCapacity);
    this.maxEntries = Math.floor(opts.maxTableCapacity / ENTRY_OVERHEAD);
    this.maxBlocked = opts.maxBlockedStreams;
    this.maxSection = opts.maxFieldSectionSize ?? 65536;
  }

  get blockedStreams(): number {
    return this.blocked.size;
  }

  /**
   * Encoder stream data (§4.3). Returns the streams whose blocked field sections can now be decoded (call
   * `resume` for each). Throws QPACK_ENCODER_STREAM_ERROR for bad instructions.
   */
  onEncoderStream(data: Uint8Array): number[] {
    const buf = joinPending(this.pending, data);
    const r = this.reader.reset(buf, 0, buf.length, QpackErrorCode.ENCODER_STREAM_ERROR);
    const t = this.table;
    const maxString = t.maxCapacity;
    for (;;) {
      const start = r.pos;
      if (r.remaining === 0) break;
      try {
        const b = r.byte();
        if ((b & 0x80) !== 0) {
          // Insert With Name Reference (§4.3.2): 1 T index(6), value.
          const isStatic = (b & 0x40) !== 0;
          const idx = r.int(6);
          const value = r.string(7, maxString);
          const name = isStatic ? staticEntry(idx, QpackErrorCode.ENCODER_STREAM_ERROR)[0] : this.relative(idx, QpackErrorCode.ENCODER_STREAM_ERROR).name;
          this.insert(name, value);
        } else if ((b & 0x40) !== 0) {
          // Insert With Literal Name (§4.3.3): 01 H len(5) name, value.
          const name = r.string(5, maxString);
          const value = r.string(7, maxString);
          this.insert(name, value);
        } else if ((b & 0x20) !== 0) {
          // Set Dynamic Table Capacity (§4.3.1).
          const cap = r.int(5);
          if (cap > t.maxCapacity) throw new QpackError(QpackErrorCode.ENCODER_STREAM_ERROR, `capacity ${cap} above our maximum ${t.maxCapacity}`);
          t.setCapacity(cap);
        } else {
          // Duplicate (§4.3.4).
          const e = this.relative(r.int(5), QpackErrorCode.ENCODER_STREAM_ERROR);
          this.insert(e.name, e.value);
        }
      } catch (e) {
        if (e !== TRUNCATED) throw e;
        r.pos = start;
        break;
      }
    }
    const rest = buf.length - r.pos;
    if (rest > t.maxCapacity + INSTRUCTION_SLACK) throw new QpackError(QpackErrorCode.ENCODER_STREAM_ERROR, 'encoder instruction longer than any entry could be');
    this.pending = rest === 0 ? new Uint8Array(0) : buf.slice(r.pos);
    const ready: number[] = [];
    for (const [id, b] of this.blocked) if (b.required <= t.insertCount) ready.push(id);
    return ready;
  }

  private insert(name: string, value: string): void {
    const t = this.table;
    const size = name.length + value.length + ENTRY_OVERHEAD;
    // §3.2.2: an entry larger than the capacity is an error; eviction is always allowed on the decoder side.
    if (size > t.capacity) throw new QpackError(QpackErrorCode.ENCODER_STREAM_ERROR, `entry of ${size} octets exceeds the table capacity ${t.capacity}`);
    t.insert(name, value);
  }

  /** Encoder-stream relative index (§3.2.5): insertCount - 1 - idx. */
  private relative(idx: number, code: number): { name: string; value: string } {
    const e = this.table.get(this.table.insertCount - 1 - idx);
    if (e === undefined) throw new QpackError(code, `relative index ${idx} is not in the dynamic table`);
    return e;
  }

  /**
   * Decodes the field section of a HEADERS frame on `streamId` (§4.5). Returns the field lines, or undefined when
   * the section needs entries not received yet: it is kept, and `onEncoderStream` names the stream when it can be
   * decoded. Throws QPACK_DECOMPRESSION_FAILED for invalid sections.
   */
  decode(streamId: number, block: Uint8Array): FieldLine[] | undefined {
    const r = this.reader.reset(block, 0, block.length, QpackErrorCode.DECOMPRESSION_FAILED);
    try {
      const required = this.requiredInsertCount(r.int(8));
      if (required > this.table.insertCount) {
        if (this.blocked.size >= this.maxBlocked) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, `more than ${this.maxBlocked} blocked streams`);
        this.blocked.set(streamId, { block: block.slice(), required });
        return undefined;
      }
      return this.decodeLines(streamId, r, required);
    } catch (e) {
      if (e === TRUNCATED) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, 'truncated field section');
      throw e;
    }
  }

  /** Decodes a field section that was blocked and is now ready (named by `onEncoderStream`). */
  resume(streamId: number): FieldLine[] | undefined {
    const b = this.blocked.get(streamId);
    if (b === undefined || b.required > this.table.insertCount) return undefined;
    this.blocked.delete(streamId);
    return this.decode(streamId, b.block);
  }

  /**
   * The application stopped reading `streamId` before its field sections were decoded (§4.4.2): forget a blocked
   * section and tell the encoder its references are void.
   */
  cancelStream(streamId: number): void {
    this.blocked.delete(streamId);
    if (this.table.maxCapacity > 0) this.out.int(6, 0x40, streamId);
  }

  /** Bytes for the decoder stream, or undefined when there is nothing to say. */
  takeDecoderStream(): Uint8Array | undefined {
    const inc = this.table.insertCount - this.acknowledged;
    if (inc > 0) {
      this.out.int(6, 0x00, inc); // Insert Count Increment (§4.4.3)
      this.acknowledged = this.table.insertCount;
    }
    if (this.out.pos === 0) return undefined;
    const b = this.out.bytes();
    this.out.reset();
    return b;
  }

  /** §4.5.1.1: the Required Insert Count from its encoded form. */
  private requiredInsertCount(encoded: number): number {
    if (encoded === 0) return 0;
    const fullRange = 2 * this.maxEntries;
    if (encoded > fullRange) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, 'invalid Required Insert Count');
    const maxValue = this.table.insertCount + this.maxEntries;
    const maxWrapped = Math.floor(maxValue / fullRange) * fullRange;
    let ric = maxWrapped + encoded - 1;
    if (ric > maxValue) {
      if (ric <= fullRange) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, 'invalid Required Insert Count');
      ric -= fullRange;
    }
    if (ric === 0) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, 'invalid Required Insert Count');
    return ric;
  }

  private decodeLines(streamId: number, r: QpackReader, required: number): FieldLine[] {
    const signed = (r.byte() & 0x80) !== 0;
    const delta = r.int(7);
    if (signed && delta >= required) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, 'negative Base');
    const base = signed ? required - delta - 1 : required + delta;
    const lines: FieldLine[] = [];
    let size = 0;
    let maxRef = -1;
    const dyn = (abs: number): { name: string; value: string } => {
      // §2.2.3: references at or above the Required Insert Count, or to evicted entries, are invalid.
      const e = abs < required ? this.table.get(abs) : undefined;
      if (e === undefined) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, `invalid dynamic table reference ${abs}`);
      if (abs > maxRef) maxRef = abs;
      return e;
    };
    const limit = this.maxSection;
    while (r.remaining > 0) {
      const b = r.byte();
      let name: string;
      let value: string;
      if ((b & 0x80) !== 0) {
        // Indexed Field Line (§4.5.2): 1 T index(6).
        const idx = r.int(6);
        if ((b & 0x40) !== 0) [name, value] = staticEntry(idx, QpackErrorCode.DECOMPRESSION_FAILED);
        else ({ name, value } = dyn(base - 1 - idx));
      } else if ((b & 0x40) !== 0) {
        // Literal Field Line With Name Reference (§4.5.4): 01 N T index(4), value.
        const idx = r.int(4);
        name = (b & 0x10) !== 0 ? staticEntry(idx, QpackErrorCode.DECOMPRESSION_FAILED)[0] : dyn(base - 1 - idx).name;
        value = r.string(7, limit);
      } else if ((b & 0x20) !== 0) {
        // Literal Field Line With Literal Name (§4.5.6): 001 N H len(3) name, value.
        name = r.string(3, limit);
        value = r.string(7, limit);
      } else if ((b & 0x10) !== 0) {
        // Indexed Field Line With Post-Base Index (§4.5.3): 0001 index(4).
        ({ name, value } = dyn(base + r.int(4)));
      } else {
        // Literal Field Line With Post-Base Name Reference (§4.5.5): 0000 N index(3), value.
        name = dyn(base + r.int(3)).name;
        value = r.string(7, limit);
      }
      size += name.length + value.length + 32;
      if (size > limit) throw new QpackError(H3_EXCESSIVE_LOAD, `field section larger than ${limit} octets`);
      lines.push([name, value]);
    }
    // §2.2.2: the Required Insert Count is exactly one more than the largest dynamic reference.
    if (required > 0) {
      if (maxRef + 1 !== required) throw new QpackError(QpackErrorCode.DECOMPRESSION_FAILED, `Required Insert Count ${required} but largest reference ${maxRef}`);
      this.out.int(7, 0x80, streamId); // Section Acknowledgment (§4.4.1)
      if (required > this.acknowledged) this.acknowledged = required;
    }
    return lines;
  }
}

function staticEntry(idx: number, code: number): readonly [string, string] {
  const e = STATIC_TABLE[idx];
  if (e === undefined) throw new QpackError(code, `static table index ${idx} out of range`);
  return e;
}
