// HTTP/3 frames (RFC 9114 §7): type and length varints, then the payload. Encoders here; the streaming reader
// is in stream-reader.ts.
//
// Numbers: frame types, setting identifiers and stream types above 2^53 - 1 can only be reserved or unknown ones
// (every defined value is small), so they are read as inexact numbers and ignored as §9 requires; lengths and
// IDs (stream, push) above 2^53 - 1 are errors, since no frame or ID of ours can reach them.

import { BufferWriter, varintSize } from '@gquic/wire';

export const FrameType = {
  DATA: 0x00,
  HEADERS: 0x01,
  CANCEL_PUSH: 0x03,
  SETTINGS: 0x04,
  PUSH_PROMISE: 0x05,
  GOAWAY: 0x07,
  MAX_PUSH_ID: 0x0d,
  /** RFC 9218 §7.2 */
  PRIORITY_UPDATE_REQUEST: 0xf0700,
  PRIORITY_UPDATE_PUSH: 0xf0701,
} as const;

/** HTTP/2 frame types with no HTTP/3 meaning (§7.2.8): receiving one is H3_FRAME_UNEXPECTED. */
export function isHttp2OnlyFrame(type: number): boolean {
  return type === 0x02 || type === 0x06 || type === 0x08 || type === 0x09;
}

export const StreamType = {
  CONTROL: 0x00,
  PUSH: 0x01,
  QPACK_ENCODER: 0x02,
  QPACK_DECODER: 0x03,
} as const;

/** §7.2.8, §6.2.3, §7.2.4.1: reserved (grease) values are 0x1f * N + 0x21. */
export function isReservedCode(v: number): boolean {
  return v >= 0x21 && (v - 0x21) % 0x1f === 0;
}

/** A reserved value 0x1f * N + 0x21 from a random 16-bit `n` (small enough to stay exact). */
export function reservedCode(n: number): number {
  return 0x1f * (n & 0xffff) + 0x21;
}

/** Frame header + payload in one buffer. */
export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(varintSize(type) + varintSize(payload.length) + payload.length);
  const w = new BufferWriter(out);
  w.varint(type);
  w.varint(payload.length);
  w.bytes(payload);
  return out;
}

/** Only the type and length (DATA payloads are written after it without a copy). */
export function encodeFrameHeader(type: number, length: number): Uint8Array {
  const out = new Uint8Array(varintSize(type) + varintSize(length));
  const w = new BufferWriter(out);
  w.varint(type);
  w.varint(length);
  return out;
}

/** One QUIC varint as bytes. */
export function varintBytes(v: number): Uint8Array {
  const out = new Uint8Array(varintSize(v));
  new BufferWriter(out).varint(v);
  return out;
}

/** A frame whose payload is one varint (GOAWAY, MAX_PUSH_ID, CANCEL_PUSH). */
export function encodeVarintFrame(type: number, v: number): Uint8Array {
  return encodeFrame(type, varintBytes(v));
}

/** A unidirectional stream's type prefix (§6.2). */
export const encodeStreamType = varintBytes;

/** RFC 9218 §7.2: PRIORITY_UPDATE for a request stream: the element ID, then the Priority field value. */
export function encodePriorityUpdate(streamId: number, value: string): Uint8Array {
  const text = new TextEncoder().encode(value);
  const payload = new Uint8Array(varintSize(streamId) + text.length);
  const w = new BufferWriter(payload);
  w.varint(streamId);
  w.bytes(text);
  return encodeFrame(FrameType.PRIORITY_UPDATE_REQUEST, payload);
}
