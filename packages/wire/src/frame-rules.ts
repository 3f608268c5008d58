// RFC 9000 §12.4 Table 3 ("Frame Types") as data, plus RFC 9221 §4 for DATAGRAM: in which packet types each
// frame may appear, and the Spec column (N: not ack-eliciting, C: not counted in flight, P: probing,
// F: flow controlled).

import { QuicError, TransportErrorCode } from './errors.js';
import { FrameType } from './frames.js';
import { PacketType } from './version.js';

/** Bits for the packet types of the "Pkts" column. */
export const PKT_INITIAL = 1;
export const PKT_0RTT = 2;
export const PKT_HANDSHAKE = 4;
export const PKT_1RTT = 8;

export const SPEC_N = 1;
export const SPEC_C = 2;
export const SPEC_P = 4;
export const SPEC_F = 8;

export interface FrameRule {
  readonly name: string;
  /** Bit set of PKT_* */
  readonly packets: number;
  /** Bit set of SPEC_* */
  readonly spec: number;
}

const I = PKT_INITIAL;
const Z = PKT_0RTT;
const H = PKT_HANDSHAKE;
const O = PKT_1RTT;

function rule(name: string, packets: number, spec = 0): FrameRule {
  return { name, packets, spec };
}

/** Indexed by frame type value. Types without an entry are unknown (FRAME_ENCODING_ERROR). */
export const FRAME_RULES: ReadonlyMap<number, FrameRule> = new Map<number, FrameRule>([
  [FrameType.PADDING, rule('PADDING', I | H | Z | O, SPEC_N | SPEC_P)],
  [FrameType.PING, rule('PING', I | H | Z | O)],
  [FrameType.ACK, rule('ACK', I | H | O, SPEC_N | SPEC_C)],
  [FrameType.ACK_ECN, rule('ACK', I | H | O, SPEC_N | SPEC_C)],
  [FrameType.RESET_STREAM, rule('RESET_STREAM', Z | O)],
  [FrameType.STOP_SENDING, rule('STOP_SENDING', Z | O)],
  [FrameType.CRYPTO, rule('CRYPTO', I | H | O)],
  [FrameType.NEW_TOKEN, rule('NEW_TOKEN', O)],
  ...[0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f].map((t): [number, FrameRule] => [t, rule('STREAM', Z | O, SPEC_F)]),
  [FrameType.MAX_DATA, rule('MAX_DATA', Z | O)],
  [FrameType.MAX_STREAM_DATA, rule('MAX_STREAM_DATA', Z | O)],
  [FrameType.MAX_STREAMS_BIDI, rule('MAX_STREAMS', Z | O)],
  [FrameType.MAX_STREAMS_UNI, rule('MAX_STREAMS', Z | O)],
  [FrameType.DATA_BLOCKED, rule('DATA_BLOCKED', Z | O)],
  [FrameType.STREAM_DATA_BLOCKED, rule('STREAM_DATA_BLOCKED', Z | O)],
  [FrameType.STREAMS_BLOCKED_BIDI, rule('STREAMS_BLOCKED', Z | O)],
  [FrameType.STREAMS_BLOCKED_UNI, rule('STREAMS_BLOCKED', Z | O)],
  [FrameType.NEW_CONNECTION_ID, rule('NEW_CONNECTION_ID', Z | O, SPEC_P)],
  [FrameType.RETIRE_CONNECTION_ID, rule('RETIRE_CONNECTION_ID', Z | O)],
  [FrameType.PATH_CHALLENGE, rule('PATH_CHALLENGE', Z | O, SPEC_P)],
  [FrameType.PATH_RESPONSE, rule('PATH_RESPONSE', O, SPEC_P)],
  // "ih01": only the transport CONNECTION_CLOSE (0x1c) may appear in Initial and Handshake packets.
  [FrameType.CONNECTION_CLOSE, rule('CONNECTION_CLOSE', I | H | Z | O, SPEC_N)],
  [FrameType.CONNECTION_CLOSE_APP, rule('CONNECTION_CLOSE', Z | O, SPEC_N)],
  [FrameType.HANDSHAKE_DONE, rule('HANDSHAKE_DONE', O)],
  // RFC 9221 §4: DATAGRAM frames are ack-eliciting and may appear only in 0-RTT and 1-RTT packets.
  [FrameType.DATAGRAM, rule('DATAGRAM', Z | O)],
  [FrameType.DATAGRAM_LEN, rule('DATAGRAM', Z | O)],
]);

/** The PKT_* bit for a packet type that carries frames (0 for Retry and Version Negotiation). */
export function packetTypeBit(type: PacketType): number {
  switch (type) {
    case PacketType.Initial:
      return PKT_INITIAL;
    case PacketType.ZeroRtt:
      return PKT_0RTT;
    case PacketType.Handshake:
      return PKT_HANDSHAKE;
    case PacketType.OneRtt:
      return PKT_1RTT;
    default:
      return 0;
  }
}

export function isFrameAllowed(frameType: number, packetType: PacketType): boolean {
  const r = FRAME_RULES.get(frameType);
  return r !== undefined && (r.packets & packetTypeBit(packetType)) !== 0;
}

/**
 * RFC 9000 §12.4: a frame in a packet type where it is not permitted is PROTOCOL_VIOLATION; an unknown frame
 * type is FRAME_ENCODING_ERROR.
 */
export function checkFrameAllowed(frameType: number, packetType: PacketType): void {
  const r = FRAME_RULES.get(frameType);
  if (r === undefined) throw new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, `unknown frame type 0x${frameType.toString(16)}`, frameType);
  if ((r.packets & packetTypeBit(packetType)) === 0) {
    throw new QuicError(TransportErrorCode.PROTOCOL_VIOLATION, `${r.name} not allowed in this packet type`, frameType);
  }
}

/** RFC 9002 §2: a frame other than ACK, PADDING and CONNECTION_CLOSE makes its packet ack-eliciting. */
export function isAckEliciting(frameType: number): boolean {
  const r = FRAME_RULES.get(frameType);
  return r !== undefined && (r.spec & SPEC_N) === 0;
}

/** RFC 9000 §9.1: frames that may appear in a probing packet. */
export function isProbingFrame(frameType: number): boolean {
  const r = FRAME_RULES.get(frameType);
  return r !== undefined && (r.spec & SPEC_P) !== 0;
}

/** RFC 9002 §2: whether a packet with this frame counts toward bytes in flight (all but ACK-only). */
export function countsInFlight(frameType: number): boolean {
  const r = FRAME_RULES.get(frameType);
  return r !== undefined && (r.spec & SPEC_C) === 0;
}
