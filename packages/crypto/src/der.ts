// ASN.1 DER (ITU-T X.690) reading and writing: just what keys and X.509 certificates need. Reading never
// allocates copies; every length is checked against its parent, and errors are `DerError`.

export class DerError extends Error {
  constructor(message: string) {
    super(`DER: ${message}`);
    this.name = 'DerError';
  }
}

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** One TLV element: `start` is its first byte, `contentStart..end` its value. */
export interface DerNode {
  readonly buf: Uint8Array;
  readonly tag: number;
  readonly start: number;
  readonly contentStart: number;
  readonly end: number;
}

/** Reads the element at `pos`, which must end by `limit`. Only single-byte tags (all X.509 needs). */
export function readDer(buf: Uint8Array, pos = 0, limit = buf.length): DerNode {
  if (pos + 2 > limit) throw new DerError('truncated header');
  const tag = buf[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported length encoding');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    if (len < 0x80 || (n > 1 && buf[p] === 0)) throw new DerError('non-minimal length');
    p += n;
  }
  if (p + len > limit) throw new DerError('length exceeds parent');
  return { buf, tag, start: pos, contentStart: p, end: p + len };
}

/** The elements inside a constructed element. */
export function children(node: DerNode): DerNode[] {
  const out: DerNode[] = [];
  let p = node.contentStart;
  while (p < node.end) {
    const c = readDer(node.buf, p, node.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

export function expect(node: DerNode | undefined, tag: number, what: string): DerNode {
  if (node === undefined) throw new DerError(`missing ${what}`);
  if (node.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, got 0x${node.tag.toString(16)}`);
  return node;
}

export function content(node: DerNode): Uint8Array {
  return node.buf.subarray(node.contentStart, node.end);
}

/** The whole encoding of a node (tag, length and content). */
export function encoding(node: DerNode): Uint8Array {
  return node.buf.subarray(node.start, node.end);
}

export function oid(node: DerNode): string {
  const b = content(expect(node, Tag.OID, 'OID'));
  if (b.length === 0) throw new DerError('empty OID');
  const parts: number[] = [];
  let v = 0;
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i]! & 0x7f);
    if ((b[i]! & 0x80) === 0) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    } else if (v > 2 ** 45) throw new DerError('OID component too large');
  }
  if ((b[b.length - 1]! & 0x80) !== 0) throw new DerError('truncated OID');
  return parts.join('.');
}

/** A non-negative INTEGER as a bigint. */
export function bigint(node: DerNode): bigint {
  const b = content(expect(node, Tag.INTEGER, 'INTEGER'));
  if (b.length === 0) throw new DerError('empty INTEGER');
  if (b[0]! & 0x80) throw new DerError('negative INTEGER');
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function smallInt(node: DerNode): number {
  const v = bigint(node);
  if (v > 0xffff_ffffn) throw new DerError('INTEGER too large');
  return Number(v);
}

/** The bytes of a BIT STRING with no unused bits. */
export function bitString(node: DerNode): Uint8Array {
  const b = content(expect(node, Tag.BIT_STRING, 'BIT STRING'));
  if (b.length === 0 || b[0]! > 7) throw new DerError('bad BIT STRING');
  return b.subarray(1);
}

/** Parses a time (UTCTime or GeneralizedTime, both in UTC with seconds) as milliseconds since the epoch. */
export function time(node: DerNode): number {
  const s = new TextDecoder().decode(content(node));
  let m: RegExpExecArray | null;
  if (node.tag === Tag.UTC_TIME && (m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    const yy = Number(m[1]);
    // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY.
    return Date.UTC(yy >= 50 ? 1900 + yy : 2000 + yy, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  if (node.tag === Tag.GENERALIZED_TIME && (m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s))) {
    return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  throw new DerError(`bad time '${s}'`);
}

// ---------------------------------------------------------------------------------------------------------
// Writing

function lengthBytes(n: number): number[] {
  if (n < 0x80) return [n];
  const out: number[] = [];
  while (n > 0) {
    out.unshift(n & 0xff);
    n = Math.floor(n / 256);
  }
  return [0x80 | out.length, ...out];
}

export function tlv(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const hdr = [tag, ...lengthBytes(len)];
  const out = new Uint8Array(hdr.length + len);
  out.set(hdr);
  let p = hdr.length;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.SEQUENCE, ...parts);
export const set = (...parts: Uint8Array[]): Uint8Array => tlv(Tag.SET, ...parts);
export const octets = (b: Uint8Array): Uint8Array => tlv(Tag.OCTET_STRING, b);
export const bits = (b: Uint8Array): Uint8Array => tlv(Tag.BIT_STRING, Uint8Array.of(0), b);
export const utf8 = (s: string): Uint8Array => tlv(Tag.UTF8_STRING, new TextEncoder().encode(s));
export const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 | n, inner);

/** An unsigned INTEGER from big-endian bytes (a leading zero is added when the top bit is set). */
export function uint(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return v[0]! & 0x80 ? tlv(Tag.INTEGER, Uint8Array.of(0), v) : tlv(Tag.INTEGER, v);
}

export function oidBytes(dotted: string): Uint8Array {
  const p = dotted.split('.').map(Number);
  const out: number[] = [];
  const push = (v: number): void => {
    const tmp = [v & 0x7f];
    v = Math.floor(v / 128);
    while (v > 0) {
      tmp.unshift(0x80 | (v & 0x7f));
      v = Math.floor(v / 128);
    }
    out.push(...tmp);
  };
  push(p[0]! * 40 + p[1]!);
  for (const v of p.slice(2)) push(v);
  return tlv(Tag.OID, Uint8Array.from(out));
}

/** GeneralizedTime for dates from 2050 on, UTCTime before (RFC 5280 §4.1.2.5). */
export function timeBytes(ms: number): Uint8Array {
  const d = new Date(ms);
  const two = (n: number): string => n.toString().padStart(2, '0');
  const rest = `${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}Z`;
  const y = d.getUTCFullYear();
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, new TextEncoder().encode(`${two(y % 100)}${rest}`));
  return tlv(Tag.GENERALIZED_TIME, new TextEncoder().encode(`${y}${rest}`));
}
