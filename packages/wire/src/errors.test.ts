import { describe, expect, it } from 'vitest';
import { QuicError, TransportErrorCode, cryptoError, isQuicError, transportErrorName } from './errors.js';

describe('QuicError', () => {
  it('carries the RFC 9000 §20.1 code, the frame type and the reason', () => {
    const e = new QuicError(TransportErrorCode.FRAME_ENCODING_ERROR, 'bad frame', 0x08);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(QuicError);
    expect([e.code, e.frameType, e.reason]).toEqual([0x07, 0x08, 'bad frame']);
    expect(e.message).toBe('FRAME_ENCODING_ERROR: bad frame');
    expect(isQuicError(e)).toBe(true);
    expect(isQuicError(new Error('x'))).toBe(false);
  });

  it('maps TLS alerts to CRYPTO_ERROR 0x0100 + alert', () => {
    expect(cryptoError(120)).toBe(0x178); // no_application_protocol
    expect(transportErrorName(cryptoError(40))).toBe('CRYPTO_ERROR(0x128)');
    expect(transportErrorName(0x0a)).toBe('PROTOCOL_VIOLATION');
    expect(transportErrorName(2n ** 60n)).toBe('0x1000000000000000');
  });
});
