// HTTP/3 error codes (RFC 9114 §8.1), used for connection closes, stream resets and STOP_SENDING.

export const H3ErrorCode = {
  NO_ERROR: 0x100,
  GENERAL_PROTOCOL_ERROR: 0x101,
  INTERNAL_ERROR: 0x102,
  STREAM_CREATION_ERROR: 0x103,
  CLOSED_CRITICAL_STREAM: 0x104,
  FRAME_UNEXPECTED: 0x105,
  FRAME_ERROR: 0x106,
  EXCESSIVE_LOAD: 0x107,
  ID_ERROR: 0x108,
  SETTINGS_ERROR: 0x109,
  MISSING_SETTINGS: 0x10a,
  REQUEST_REJECTED: 0x10b,
  REQUEST_CANCELLED: 0x10c,
  REQUEST_INCOMPLETE: 0x10d,
  MESSAGE_ERROR: 0x10e,
  CONNECT_ERROR: 0x10f,
  VERSION_FALLBACK: 0x110,
  /** RFC 9297 §5.2 */
  DATAGRAM_ERROR: 0x33,
} as const;

const NAMES = new Map<number, string>([
  ...Object.entries(H3ErrorCode).map(([k, v]) => [v, `H3_${k}`] as [number, string]),
  [0x200, 'QPACK_DECOMPRESSION_FAILED'],
  [0x201, 'QPACK_ENCODER_STREAM_ERROR'],
  [0x202, 'QPACK_DECODER_STREAM_ERROR'],
]);

/** `H3_FRAME_ERROR`, `QPACK_DECOMPRESSION_FAILED`, or the number in hex. */
export function h3ErrorName(code: number | bigint): string {
  return (typeof code === 'number' ? NAMES.get(code) : undefined) ?? `0x${code.toString(16)}`;
}

const BRAND = Symbol.for('gquic.H3Error');

/**
 * An HTTP/3 error. `connection` errors close the whole connection with `code` (RFC 9114 §8); stream errors
 * reset or stop one request stream.
 */
export class H3Error extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly connection = true,
  ) {
    super(`${h3ErrorName(code)}: ${reason}`);
    this.name = 'H3Error';
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true;
  }

  get [BRAND](): true {
    return true;
  }
}

/** A message-level error (RFC 9114 §4.1.2): the stream is reset with H3_MESSAGE_ERROR; the connection lives. */
export function messageError(reason: string): H3Error {
  return new H3Error(H3ErrorCode.MESSAGE_ERROR, reason, false);
}
