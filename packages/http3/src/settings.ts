// HTTP/3 SETTINGS (RFC 9114 §7.2.4) with the QPACK (RFC 9204 §5), Extended CONNECT (RFC 9220 §3) and HTTP
// Datagram (RFC 9297 §2.1.1) parameters.

import { BufferReader, BufferWriter, varintSize } from '@gquic/wire';
import { H3Error, H3ErrorCode } from './errors.js';
import { reservedCode } from './frames.js';

export const SettingId = {
  QPACK_MAX_TABLE_CAPACITY: 0x01,
  MAX_FIELD_SECTION_SIZE: 0x06,
  QPACK_BLOCKED_STREAMS: 0x07,
  ENABLE_CONNECT_PROTOCOL: 0x08,
  H3_DATAGRAM: 0x33,
} as const;

export interface H3Settings {
  qpackMaxTableCapacity: number;
  /** Unlimited by default (Infinity). */
  maxFieldSectionSize: number;
  qpackBlockedStreams: number;
  enableConnectProtocol: boolean;
  h3Datagram: boolean;
}

/** §7.2.4.2: the values in force before the peer's SETTINGS arrive. */
export const INITIAL_SETTINGS: Readonly<H3Settings> = {
  qpackMaxTableCapacity: 0,
  maxFieldSectionSize: Number.POSITIVE_INFINITY,
  qpackBlockedStreams: 0,
  enableConnectProtocol: false,
  h3Datagram: false,
};

/** The largest SETTINGS frame we read: a peer has no reason to send kilobytes of settings. */
export const MAX_SETTINGS_FRAME = 4096;

/** SETTINGS payload, with one reserved (grease) setting (§7.2.4.1) when `grease` is given. */
export function encodeSettings(s: H3Settings, grease?: number): Uint8Array {
  const pairs: Array<[number, number]> = [
    [SettingId.QPACK_MAX_TABLE_CAPACITY, s.qpackMaxTableCapacity],
    [SettingId.QPACK_BLOCKED_STREAMS, s.qpackBlockedStreams],
  ];
  if (Number.isFinite(s.maxFieldSectionSize)) pairs.push([SettingId.MAX_FIELD_SECTION_SIZE, s.maxFieldSectionSize]);
  if (s.enableConnectProtocol) pairs.push([SettingId.ENABLE_CONNECT_PROTOCOL, 1]);
  if (s.h3Datagram) pairs.push([SettingId.H3_DATAGRAM, 1]);
  if (grease !== undefined) pairs.push([reservedCode(grease), grease & 0xff]);
  const out = new Uint8Array(pairs.reduce((n, [k, v]) => n + varintSize(k) + varintSize(v), 0));
  const w = new BufferWriter(out);
  for (const [k, v] of pairs) {
    w.varint(k);
    w.varint(v);
  }
  return out;
}

/**
 * Decodes a SETTINGS payload. Duplicates, the HTTP/2-only identifiers 0x02-0x05, and boolean settings other
 * than 0 or 1 are H3_SETTINGS_ERROR; unknown identifiers are ignored. Values above 2^53 - 1 for the size
 * settings read as "unlimited" (they could never be reached), for identifiers as unknown.
 */
export function decodeSettings(payload: Uint8Array): H3Settings {
  const s: H3Settings = { ...INITIAL_SETTINGS };
  const seen = new Set<number>();
  const r = new BufferReader(payload, 0, payload.length, H3ErrorCode.FRAME_ERROR);
  const v = (): number => {
    try {
      return r.varint();
    } catch (e) {
      if (r.lastAboveSafe) return Number.POSITIVE_INFINITY;
      throw new H3Error(H3ErrorCode.FRAME_ERROR, `SETTINGS: ${(e as Error).message}`);
    }
  };
  while (r.remaining > 0) {
    const id = v();
    const value = v();
    if (seen.has(id)) throw new H3Error(H3ErrorCode.SETTINGS_ERROR, `setting 0x${id.toString(16)} sent twice`);
    seen.add(id);
    switch (id) {
      case 0x02:
      case 0x03:
      case 0x04:
      case 0x05:
        throw new H3Error(H3ErrorCode.SETTINGS_ERROR, `HTTP/2 setting 0x${id.toString(16)} in HTTP/3`);
      case SettingId.QPACK_MAX_TABLE_CAPACITY:
        s.qpackMaxTableCapacity = value;
        break;
      case SettingId.MAX_FIELD_SECTION_SIZE:
        s.maxFieldSectionSize = value;
        break;
      case SettingId.QPACK_BLOCKED_STREAMS:
        s.qpackBlockedStreams = value;
        break;
      case SettingId.ENABLE_CONNECT_PROTOCOL:
        if (value > 1) throw new H3Error(H3ErrorCode.SETTINGS_ERROR, 'SETTINGS_ENABLE_CONNECT_PROTOCOL must be 0 or 1');
        s.enableConnectProtocol = value === 1;
        break;
      case SettingId.H3_DATAGRAM:
        if (value > 1) throw new H3Error(H3ErrorCode.SETTINGS_ERROR, 'SETTINGS_H3_DATAGRAM must be 0 or 1');
        s.h3Datagram = value === 1;
        break;
      default:
        break; // unknown and reserved: ignored (§7.2.4)
    }
  }
  return s;
}
