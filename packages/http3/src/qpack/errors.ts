// QPACK error codes (RFC 9204 §6): connection errors, carried as HTTP/3 application error codes.

export const QpackErrorCode = {
  DECOMPRESSION_FAILED: 0x200,
  ENCODER_STREAM_ERROR: 0x201,
  DECODER_STREAM_ERROR: 0x202,
} as const;

const NAMES: Record<number, string> = {
  0x200: 'QPACK_DECOMPRESSION_FAILED',
  0x201: 'QPACK_ENCODER_STREAM_ERROR',
  0x202: 'QPACK_DECODER_STREAM_ERROR',
};

const BRAND = Symbol.for('gquic.QpackError');

/** A QPACK failure; `code` is the RFC 9204 §6 code to close the connection with. */
export class QpackError extends Error {
  readonly code: number;

  constructor(code: number, reason: string) {
    super(`${NAMES[code] ?? `0x${code.toString(16)}`}: ${reason}`);
    this.name = 'QpackError';
    this.code = code;
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [BRAND]?: true })[BRAND] === true;
  }

  get [BRAND](): true {
    return true;
  }
}
