// RFC 9000 §20.1: transport error codes, as carried in CONNECTION_CLOSE (type 0x1c).
export const TransportErrorCode = {
  NO_ERROR: 0x00,
  INTERNAL_ERROR: 0x01,
  CONNECTION_REFUSED: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_LIMIT_ERROR: 0x04,
  STREAM_STATE_ERROR: 0x05,
  FINAL_SIZE_ERROR: 0x06,
  FRAME_ENCODING_ERROR: 0x07,
  TRANSPORT_PARAMETER_ERROR: 0x08,
  CONNECTION_ID_LIMIT_ERROR: 0x09,
  PROTOCOL_VIOLATION: 0x0a,
  INVALID_TOKEN: 0x0b,
  APPLICATION_ERROR: 0x0c,
  CRYPTO_BUFFER_EXCEEDED: 0x0d,
  KEY_UPDATE_ERROR: 0x0e,
  AEAD_LIMIT_REACHED: 0x0f,
  NO_VIABLE_PATH: 0x10,
  // RFC 9368 §10.2
  VERSION_NEGOTIATION_ERROR: 0x11,
  // RFC 9000 §20.1: CRYPTO_ERROR is the range 0x0100-0x01ff, 0x0100 + TLS alert.
  CRYPTO_ERROR: 0x0100,
} as const;

export type TransportErrorName = keyof typeof TransportErrorCode;

const NAMES = new Map<number, string>(Object.entries(TransportErrorCode).map(([k, v]) => [v, k]));

/** Human-readable name of a transport error code, e.g. `CRYPTO_ERROR(0x128)`. */
export function transportErrorName(code: number | bigint): string {
  if (typeof code === 'number') {
    if (code > 0x100 && code <= 0x1ff) return `CRYPTO_ERROR(0x${code.toString(16)})`;
    const name = NAMES.get(code);
    if (name !== undefined) return name;
  }
  return `0x${code.toString(16)}`;
}

/** RFC 9000 §20.1: the transport error code for a TLS alert. */
export function cryptoError(alert: number): number {
  return TransportErrorCode.CRYPTO_ERROR + (alert & 0xff);
}

const BRAND = Symbol.for('gquic.QuicError');

/**
 * A QUIC transport error: `code` is the RFC 9000 §20.1 code that goes into CONNECTION_CLOSE,
 * `frameType` the type of the frame that triggered it (0 when none or unknown).
 *
 * `instanceof` works across duplicated installs through a `Symbol.for` brand.
 */
export class QuicError extends Error {
  readonly code: number;
  readonly frameType: number;
  readonly reason: string;

  constructor(code: number, reason: string, frameType = 0) {
    super(`${transportErrorName(code)}: ${reason}`);
    this.name = 'QuicError';
    this.code = code;
    this.frameType = frameType;
    this.reason = reason;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true;
  }

  get [BRAND](): true {
    return true;
  }
}

export function isQuicError(value: unknown): value is QuicError {
  return value instanceof QuicError;
}
