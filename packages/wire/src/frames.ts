// RFC 9000 §19 frames and RFC 9221 DATAGRAM: decode, encode, and encoded size without encoding.
//
// Frames decode into plain typed records named as in qlog (`type: 'stream'`, …). Byte fields (`data`,
// `token`, `connectionId`…) are views into the packet: copy what must outlive the packet buffer.
// What each varint field does above 2^53-1 is decided per field (docs/varints.md):
//  - limits (MAX_DATA, MAX_STREAM_DATA, *_BLOCKED, ACK delay, ECN counts) saturate to Number.MAX_SAFE_INTEGER;
//  - MAX_STREAMS and STREAMS_BLOCKED above 2^60 are FRAME_ENCODING_ERROR (§19.11, §19.14), and saturate below;
//  - offsets and final sizes are FLOW_CONTROL_ERROR (beyond any window we advertise; §4.5, §19.8);
//    CRYPTO offsets CRYPTO_BUFFER_EXCEEDED (§19.6);
//  - stream IDs are STREAM_LIMIT_ERROR (beyond any MAX_STREAMS we advertise);
//  - acknowledged packet numbers are PROTOCOL_VIOLATION (we never send 2^53 packets, §13.1), ACK gaps and
//    range lengths that large make a negative packet number, FRAME_ENCODING_ERROR (§19.3.1);
//  - CID sequence numbers are PROTOCOL_VIOLATION (no peer issues 2^53 CIDs);
//  - error codes and the frame type in CONNECTION_CLOSE are exact: a bigint above 2^53-1.

import { QuicError, TransportErrorCode as E } from './errors.js';
import { BufferReader } from './reader.js';
import { varintSize, varintSizeExact } from './varint.js';
import type { BufferWriter } from './writer.js';
import { MAX_CID_LENGTH } from './packet-header.js';

/** RFC 9000 §19 / §12.4 frame type values; RFC 9221 §4 DATAGRAM. */
export const FrameType = {
  PADDING: 0x00,
  PING: 0x01,
  ACK: 0x02,
  ACK_ECN: 0x03,
  RESET_STREAM: 0x04,
  STOP_SENDING: 0x05,
  CRYPTO: 0x06,
  NEW_TOKEN: 0x07,
  /** 0x08-0x0f: OFF (0x04), LEN (0x02) and FIN (0x01) bits. */
  STREAM: 0x08,
  MAX_DATA: 0x10,
  MAX_STREAM_DATA: 0x11,
  MAX_STREAMS_BIDI: 0x12,
  MAX_STREAMS_UNI: 0x13,
  DATA_BLOCKED: 0x14,
  STREAM_DATA_BLOCKED: 0x15,
  STREAMS_BLOCKED_BIDI: 0x16,
  STREAMS_BLOCKED_UNI: 0x17,
  NEW_CONNECTION_ID: 0x18,
  RETIRE_CONNECTION_ID: 0x19,
  PATH_CHALLENGE: 0x1a,
  PATH_RESPONSE: 0x1b,
  CONNECTION_CLOSE: 0x1c,
  CONNECTION_CLOSE_APP: 0x1d,
  HANDSHAKE_DONE: 0x1e,
  DATAGRAM: 0x30,
  DATAGRAM_LEN: 0x31,
} as const;

export const STREAM_FIN = 0x01;
export const STREAM_LEN = 0x02;
export const STREAM_OFF = 0x04;
/** RFC 9000 §4.6/§19.11: stream counts never exceed 2^60. */
export const MAX_STREAMS_LIMIT = 2 ** 60;
export const STATELESS_RESET_TOKEN_LENGTH = 16;
export const PATH_DATA_LENGTH = 8;

export interface EcnCounts {
  ect0: number;
  ect1: number;
  ce: number;
}

export type Frame =
  /** A run of `length` PADDING bytes (consecutive 0x00 bytes decode as one record). */
  | { type: 'padding'; length: number }
  | { type: 'ping' }
  /**
   * `ranges` holds [largest, smallest] pairs in descending order: ranges[0] is the Largest Acknowledged.
   * `ackDelay` is the raw encoded value (scaled by the sender's ack_delay_exponent).
   */
  | { type: 'ack'; ackDelay: number; ranges: number[]; ecn: EcnCounts | null }
  | { type: 'reset_stream'; streamId: number; errorCode: number | bigint; finalSize: number }
  | { type: 'stop_sending'; streamId: number; errorCode: number | bigint }
  | { type: 'crypto'; offset: number; data: Uint8Array }
  | { type: 'new_token'; token: Uint8Array }
  | { type: 'stream'; streamId: number; offset: number; data: Uint8Array; fin: boolean }
  | { type: 'max_data'; maximum: number }
  | { type: 'max_stream_data'; streamId: number; maximum: number }
  | { type: 'max_streams'; bidirectional: boolean; maximum: number }
  | { type: 'data_blocked'; limit: number }
  | { type: 'stream_data_blocked'; streamId: number; limit: number }
  | { type: 'streams_blocked'; bidirectional: boolean; limit: number }
  | { type: 'new_connection_id'; sequenceNumber: number; retirePriorTo: number; connectionId: Uint8Array; statelessResetToken: Uint8Array }
  | { type: 'retire_connection_id'; sequenceNumber: number }
  | { type: 'path_challenge'; data: Uint8Array }
  | { type: 'path_response'; data: Uint8Array }
  /** `isApplication` selects type 0x1d; `frameType` is only carried by the transport variant (0x1c). */
  | { type: 'connection_close'; isApplication: boolean; errorCode: number | bigint; frameType: number | bigint; reason: string }
  | { type: 'handshake_done' }
  /** RFC 9221: `withLength` selects type 0x31; without it the data runs to the end of the packet. */
  | { type: 'datagram'; data: Uint8Array; withLength: boolean };

export type FrameName = Frame['type'];

const utf8Decoder = new TextDecoder('utf-8', { fatal: false });
const utf8Encoder = new TextEncoder();

function err(code: number, reason: string, frameType: number): QuicError {
  return new QuicError(code, reason, frameType);
}

/** Reads the frame type: a varint that must use its shortest encoding (RFC 9000 §12.4). */
export function readFrameType(r: BufferReader): number {
  const len = r.peekVarintLength();
  const t = r.varint(E.FRAME_ENCODING_ERROR);
  if (len !== varintSize(t)) throw err(E.PROTOCOL_VIOLATION, 'frame type not minimally encoded', t);
  return t;
}

/**
 * Decodes the frame at the cursor. Errors carry the RFC code and the frame type: truncation and malformed
 * fields are FRAME_ENCODING_ERROR, unknown types FRAME_ENCODING_ERROR (§12.4).
 */
export function readFrame(r: BufferReader): Frame {
  const t = readFrameType(r);
  try {
    return readFrameBody(r, t);
  } catch (e) {
    if (e instanceof QuicError && e.frameType === 0 && t !== 0) throw err(e.code, e.reason, t);
    throw e;
  }
}

function readFrameBody(r: BufferReader, t: number): Frame {
  switch (t) {
    case FrameType.PADDING: {
      let n = 1;
      const b = r.buf;
      while (r.pos < r.end && b[r.pos] === 0) {
        r.pos++;
        n++;
      }
      return { type: 'padding', length: n };
    }
    case FrameType.PING:
      return { type: 'ping' };
    case FrameType.ACK:
    case FrameType.ACK_ECN:
      return readAck(r, t);
    case FrameType.RESET_STREAM: {
      const streamId = r.varint(E.STREAM_LIMIT_ERROR);
      const errorCode = r.varintExact();
      const finalSize = r.varint(E.FLOW_CONTROL_ERROR);
      return { type: 'reset_stream', streamId, errorCode, finalSize };
    }
    case FrameType.STOP_SENDING: {
      const streamId = r.varint(E.STREAM_LIMIT_ERROR);
      return { type: 'stop_sending', streamId, errorCode: r.varintExact() };
    }
    case FrameType.CRYPTO: {
      const offset = r.varint(E.CRYPTO_BUFFER_EXCEEDED);
      const length = r.varint();
      if (offset + length > Number.MAX_SAFE_INTEGER) throw err(E.CRYPTO_BUFFER_EXCEEDED, 'crypto offset too large', t);
      return { type: 'crypto', offset, data: r.bytes(length) };
    }
    case FrameType.NEW_TOKEN: {
      const length = r.varint();
      // RFC 9000 §19.7: an empty token is FRAME_ENCODING_ERROR.
      if (length === 0) throw err(E.FRAME_ENCODING_ERROR, 'empty NEW_TOKEN', t);
      return { type: 'new_token', token: r.bytes(length) };
    }
    case FrameType.MAX_DATA:
      return { type: 'max_data', maximum: r.varintSaturating() };
    case FrameType.MAX_STREAM_DATA: {
      const streamId = r.varint(E.STREAM_LIMIT_ERROR);
      return { type: 'max_stream_data', streamId, maximum: r.varintSaturating() };
    }
    case FrameType.MAX_STREAMS_BIDI:
    case FrameType.MAX_STREAMS_UNI: {
      const maximum = r.varintSaturating();
      if (r.lastAbove2Pow60) throw err(E.FRAME_ENCODING_ERROR, 'MAX_STREAMS above 2^60', t);
      return { type: 'max_streams', bidirectional: t === FrameType.MAX_STREAMS_BIDI, maximum };
    }
    case FrameType.DATA_BLOCKED:
      return { type: 'data_blocked', limit: r.varintSaturating() };
    case FrameType.STREAM_DATA_BLOCKED: {
      const streamId = r.varint(E.STREAM_LIMIT_ERROR);
      return { type: 'stream_data_blocked', streamId, limit: r.varintSaturating() };
    }
    case FrameType.STREAMS_BLOCKED_BIDI:
    case FrameType.STREAMS_BLOCKED_UNI: {
      const limit = r.varintSaturating();
      if (r.lastAbove2Pow60) throw err(E.FRAME_ENCODING_ERROR, 'STREAMS_BLOCKED above 2^60', t);
      return { type: 'streams_blocked', bidirectional: t === FrameType.STREAMS_BLOCKED_BIDI, limit };
    }
    case FrameType.NEW_CONNECTION_ID: {
      const sequenceNumber = r.varint(E.PROTOCOL_VIOLATION);
      const retirePriorTo = r.varint(E.PROTOCOL_VIOLATION);
      // RFC 9000 §19.15
      if (retirePriorTo > sequenceNumber) throw err(E.FRAME_ENCODING_ERROR, 'Retire Prior To exceeds Sequence Number', t);
      const len = r.u8();
      if (len < 1 || len > MAX_CID_LENGTH) throw err(E.FRAME_ENCODING_ERROR, 'bad connection ID length', t);
      const connectionId = r.bytes(len);
      const statelessResetToken = r.bytes(STATELESS_RESET_TOKEN_LENGTH);
      return { type: 'new_connection_id', sequenceNumber, retirePriorTo, connectionId, statelessResetToken };
    }
    case FrameType.RETIRE_CONNECTION_ID:
      return { type: 'retire_connection_id', sequenceNumber: r.varint(E.PROTOCOL_VIOLATION) };
    case FrameType.PATH_CHALLENGE:
      return { type: 'path_challenge', data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.PATH_RESPONSE:
      return { type: 'path_response', data: r.bytes(PATH_DATA_LENGTH) };
    case FrameType.CONNECTION_CLOSE:
    case FrameType.CONNECTION_CLOSE_APP: {
      const isApplication = t === FrameType.CONNECTION_CLOSE_APP;
      const errorCode = r.varintExact();
      const frameType = isApplication ? 0 : r.varintExact();
      const length = r.varint();
      const reason = utf8Decoder.decode(r.bytes(length));
      return { type: 'connection_close', isApplication, errorCode, frameType, reason };
    }
    case FrameType.HANDSHAKE_DONE:
      return { type: 'handshake_done' };
    case FrameType.DATAGRAM:
      return { type: 'datagram', data: r.rest(), withLength: false };
    case FrameType.DATAGRAM_LEN: {
      const length = r.varint();
      return { type: 'datagram', data: r.bytes(length), withLength: true };
    }
    default:
      if (t >= 0x08 && t <= 0x0f) return readStream(r, t);
      throw err(E.FRAME_ENCODING_ERROR, `unknown frame type 0x${t.toString(16)}`, t);
  }
}

function readStream(r: BufferReader, t: number): Frame {
  const streamId = r.varint(E.STREAM_LIMIT_ERROR);
  const offset = (t & STREAM_OFF) !== 0 ? r.varint(E.FLOW_CONTROL_ERROR) : 0;
  const length = (t & STREAM_LEN) !== 0 ? r.varint() : r.remaining;
  // RFC 9000 §19.8: offset + length above 2^62-1 is an error; above 2^53-1 it is beyond any window we grant.
  if (offset + length > Number.MAX_SAFE_INTEGER) throw err(E.FLOW_CONTROL_ERROR, 'stream offset too large', t);
  return { type: 'stream', streamId, offset, data: r.bytes(length), fin: (t & STREAM_FIN) !== 0 };
}

function readAck(r: BufferReader, t: number): Frame {
  // RFC 9000 §19.3
  const largest = r.varint(E.PROTOCOL_VIOLATION);
  const ackDelay = r.varintSaturating();
  const rangeCount = r.varintSaturating();
  // Each further range takes at least two bytes: a bound on the loop before any allocation.
  if (rangeCount > r.remaining / 2) throw err(E.FRAME_ENCODING_ERROR, 'ACK Range Count exceeds frame', t);
  const firstRange = r.varint();
  let smallest = largest - firstRange;
  if (smallest < 0) throw err(E.FRAME_ENCODING_ERROR, 'ACK range below zero', t);
  const ranges = [largest, smallest];
  for (let i = 0; i < rangeCount; i++) {
    // §19.3.1: the next range's largest is smallest - gap - 2.
    const gap = r.varint();
    const len = r.varint();
    const hi = smallest - gap - 2;
    const lo = hi - len;
    if (lo < 0) throw err(E.FRAME_ENCODING_ERROR, 'ACK range below zero', t);
    ranges.push(hi, lo);
    smallest = lo;
  }
  let ecn: EcnCounts | null = null;
  if (t === FrameType.ACK_ECN) ecn = { ect0: r.varintSaturating(), ect1: r.varintSaturating(), ce: r.varintSaturating() };
  return { type: 'ack', ackDelay, ranges, ecn };
}

/** Encodes `f` at the writer's cursor. Throws RangeError for values no frame can carry. */
export function writeFrame(w: BufferWriter, f: Frame): void {
  switch (f.type) {
    case 'padding':
      w.fill(0, f.length);
      return;
    case 'ping':
      w.u8(FrameType.PING);
      return;
    case 'ack':
      writeAck(w, f.ackDelay, f.ranges, f.ecn);
      return;
    case 'reset_stream':
      w.u8(FrameType.RESET_STREAM);
      w.varint(f.streamId);
      w.varintExact(f.errorCode);
      w.varint(f.finalSize);
      return;
    case 'stop_sending':
      w.u8(FrameType.STOP_SENDING);
      w.varint(f.streamId);
      w.varintExact(f.errorCode);
      return;
    case 'crypto':
      w.u8(FrameType.CRYPTO);
      w.varint(f.offset);
      w.varint(f.data.length);
      w.bytes(f.data);
      return;
    case 'new_token':
      if (f.token.length === 0) throw new RangeError('NEW_TOKEN must carry a token');
      w.u8(FrameType.NEW_TOKEN);
      w.varint(f.token.length);
      w.bytes(f.token);
      return;
    case 'stream':
      writeStreamFrame(w, f.streamId, f.offset, f.data, f.fin, true);
      return;
    case 'max_data':
      w.u8(FrameType.MAX_DATA);
      w.varint(f.maximum);
      return;
    case 'max_stream_data':
      w.u8(FrameType.MAX_STREAM_DATA);
      w.varint(f.streamId);
      w.varint(f.maximum);
      return;
    case 'max_streams':
      checkStreamCount(f.maximum);
      w.u8(f.bidirectional ? FrameType.MAX_STREAMS_BIDI : FrameType.MAX_STREAMS_UNI);
      w.varint(f.maximum);
      return;
    case 'data_blocked':
      w.u8(FrameType.DATA_BLOCKED);
      w.varint(f.limit);
      return;
    case 'stream_data_blocked':
      w.u8(FrameType.STREAM_DATA_BLOCKED);
      w.varint(f.streamId);
      w.varint(f.limit);
      return;
    case 'streams_blocked':
      checkStreamCount(f.limit);
      w.u8(f.bidirectional ? FrameType.STREAMS_BLOCKED_BIDI : FrameType.STREAMS_BLOCKED_UNI);
      w.varint(f.limit);
      return;
    case 'new_connection_id':
      if (f.connectionId.length < 1 || f.connectionId.length > MAX_CID_LENGTH) throw new RangeError('connection ID must be 1-20 bytes');
      if (f.statelessResetToken.length !== STATELESS_RESET_TOKEN_LENGTH) throw new RangeError('stateless reset token must be 16 bytes');
      if (f.retirePriorTo > f.sequenceNumber) throw new RangeError('Retire Prior To exceeds Sequence Number');
      w.u8(FrameType.NEW_CONNECTION_ID);
      w.varint(f.sequenceNumber);
      w.varint(f.retirePriorTo);
      w.u8(f.connectionId.length);
      w.bytes(f.connectionId);
      w.bytes(f.statelessResetToken);
      return;
    case 'retire_connection_id':
      w.u8(FrameType.RETIRE_CONNECTION_ID);
      w.varint(f.sequenceNumber);
      return;
    case 'path_challenge':
    case 'path_response':
      if (f.data.length !== PATH_DATA_LENGTH) throw new RangeError('path data must be 8 bytes');
      w.u8(f.type === 'path_challenge' ? FrameType.PATH_CHALLENGE : FrameType.PATH_RESPONSE);
      w.bytes(f.data);
      return;
    case 'connection_close': {
      const reason = utf8Encoder.encode(f.reason);
      w.u8(f.isApplication ? FrameType.CONNECTION_CLOSE_APP : FrameType.CONNECTION_CLOSE);
      w.varintExact(f.errorCode);
      if (!f.isApplication) w.varintExact(f.frameType);
      w.varint(reason.length);
      w.bytes(reason);
      return;
    }
    case 'handshake_done':
      w.u8(FrameType.HANDSHAKE_DONE);
      return;
    case 'datagram':
      writeDatagramFrame(w, f.data, f.withLength);
      return;
    default:
      throw new RangeError(`unknown frame ${(f satisfies never as { type: string }).type}`);
  }
}

function checkStreamCount(n: number): void {
  if (n > MAX_STREAMS_LIMIT) throw new RangeError('stream count above 2^60');
}

/**
 * RFC 9000 §19.8: a STREAM frame. `withLength` false omits the Length field, so the data runs to the end of
 * the packet (the packet builder does this for the last frame). Offset 0 omits the Offset field.
 */
export function writeStreamFrame(w: BufferWriter, streamId: number, offset: number, data: Uint8Array, fin: boolean, withLength: boolean): void {
  w.u8(FrameType.STREAM | (offset > 0 ? STREAM_OFF : 0) | (withLength ? STREAM_LEN : 0) | (fin ? STREAM_FIN : 0));
  w.varint(streamId);
  if (offset > 0) w.varint(offset);
  if (withLength) w.varint(data.length);
  w.bytes(data);
}

/** Bytes a STREAM frame needs before its data. */
export function streamFrameOverhead(streamId: number, offset: number, dataLength: number, withLength: boolean): number {
  return 1 + varintSize(streamId) + (offset > 0 ? varintSize(offset) : 0) + (withLength ? varintSize(dataLength) : 0);
}

/** RFC 9221 §4: a DATAGRAM frame, type 0x31 with Length or 0x30 running to the end of the packet. */
export function writeDatagramFrame(w: BufferWriter, data: Uint8Array, withLength: boolean): void {
  w.u8(withLength ? FrameType.DATAGRAM_LEN : FrameType.DATAGRAM);
  if (withLength) w.varint(data.length);
  w.bytes(data);
}

/**
 * RFC 9000 §19.3: an ACK frame from [largest, smallest] pairs in descending order (as `Frame.ranges`).
 * `maxRanges` caps how many ranges are written (the oldest are dropped, §13.2.4).
 */
export function writeAck(w: BufferWriter, ackDelay: number, ranges: readonly number[], ecn: EcnCounts | null, maxRanges = Infinity): void {
  const n = Math.min(ranges.length >> 1, maxRanges);
  if (n < 1) throw new RangeError('ACK needs at least one range');
  w.u8(ecn !== null ? FrameType.ACK_ECN : FrameType.ACK);
  const largest = ranges[0]!;
  let smallest = ranges[1]!;
  w.varint(largest);
  w.varint(ackDelay);
  w.varint(n - 1);
  w.varint(largest - smallest);
  for (let i = 1; i < n; i++) {
    const hi = ranges[2 * i]!;
    const lo = ranges[2 * i + 1]!;
    if (hi > smallest - 2 || lo > hi) throw new RangeError('ACK ranges must be descending and separated by a gap');
    w.varint(smallest - hi - 2);
    w.varint(hi - lo);
    smallest = lo;
  }
  if (ecn !== null) {
    w.varint(ecn.ect0);
    w.varint(ecn.ect1);
    w.varint(ecn.ce);
  }
}

/** Encoded size of an ACK frame (see `writeAck`). */
export function ackFrameSize(ackDelay: number, ranges: readonly number[], ecn: EcnCounts | null, maxRanges = Infinity): number {
  const n = Math.min(ranges.length >> 1, maxRanges);
  const largest = ranges[0]!;
  let smallest = ranges[1]!;
  let size = 1 + varintSize(largest) + varintSize(ackDelay) + varintSize(n - 1) + varintSize(largest - smallest);
  for (let i = 1; i < n; i++) {
    const hi = ranges[2 * i]!;
    const lo = ranges[2 * i + 1]!;
    size += varintSize(smallest - hi - 2) + varintSize(hi - lo);
    smallest = lo;
  }
  if (ecn !== null) size += varintSize(ecn.ect0) + varintSize(ecn.ect1) + varintSize(ecn.ce);
  return size;
}

/** The encoded size of `f`, computed without encoding it. */
export function frameSize(f: Frame): number {
  switch (f.type) {
    case 'padding':
      return f.length;
    case 'ping':
    case 'handshake_done':
      return 1;
    case 'ack':
      return ackFrameSize(f.ackDelay, f.ranges, f.ecn);
    case 'reset_stream':
      return 1 + varintSize(f.streamId) + varintSizeExact(f.errorCode) + varintSize(f.finalSize);
    case 'stop_sending':
      return 1 + varintSize(f.streamId) + varintSizeExact(f.errorCode);
    case 'crypto':
      return 1 + varintSize(f.offset) + varintSize(f.data.length) + f.data.length;
    case 'new_token':
      return 1 + varintSize(f.token.length) + f.token.length;
    case 'stream':
      return streamFrameOverhead(f.streamId, f.offset, f.data.length, true) + f.data.length;
    case 'max_data':
      return 1 + varintSize(f.maximum);
    case 'max_stream_data':
      return 1 + varintSize(f.streamId) + varintSize(f.maximum);
    case 'max_streams':
      return 1 + varintSize(f.maximum);
    case 'data_blocked':
      return 1 + varintSize(f.limit);
    case 'stream_data_blocked':
      return 1 + varintSize(f.streamId) + varintSize(f.limit);
    case 'streams_blocked':
      return 1 + varintSize(f.limit);
    case 'new_connection_id':
      return 1 + varintSize(f.sequenceNumber) + varintSize(f.retirePriorTo) + 1 + f.connectionId.length + STATELESS_RESET_TOKEN_LENGTH;
    case 'retire_connection_id':
      return 1 + varintSize(f.sequenceNumber);
    case 'path_challenge':
    case 'path_response':
      return 1 + PATH_DATA_LENGTH;
    case 'connection_close': {
      const n = utf8ByteLength(f.reason);
      return 1 + varintSizeExact(f.errorCode) + (f.isApplication ? 0 : varintSizeExact(f.frameType)) + varintSize(n) + n;
    }
    case 'datagram':
      return 1 + (f.withLength ? varintSize(f.data.length) : 0) + f.data.length;
    default:
      throw new RangeError(`unknown frame ${(f satisfies never as { type: string }).type}`);
  }
}

/** UTF-8 length of a string without encoding it (lone surrogates count as U+FFFD, as TextEncoder writes them). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

const frameReader = new BufferReader();

/** Decodes every frame of a packet payload (convenience; the connection decodes frame by frame). */
export function readFrames(payload: Uint8Array): Frame[] {
  const r = frameReader.reset(payload);
  const out: Frame[] = [];
  while (r.remaining > 0) out.push(readFrame(r));
  return out;
}
