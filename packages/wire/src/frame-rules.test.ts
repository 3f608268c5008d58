import { describe, expect, it } from 'vitest';
import { QuicError, TransportErrorCode } from './errors.js';
import { FRAME_RULES, checkFrameAllowed, countsInFlight, isAckEliciting, isFrameAllowed, isProbingFrame } from './frame-rules.js';
import { FrameType } from './frames.js';
import { PacketType } from './version.js';

const { Initial, ZeroRtt, Handshake, OneRtt } = PacketType;

describe('RFC 9000 §12.4 frame/packet-type table', () => {
  it('allows every known frame in 1-RTT packets', () => {
    for (const t of FRAME_RULES.keys()) expect(isFrameAllowed(t, OneRtt)).toBe(true);
  });

  it.each([
    [FrameType.PADDING, 'IH01'],
    [FrameType.PING, 'IH01'],
    [FrameType.ACK, 'IH_1'],
    [FrameType.ACK_ECN, 'IH_1'],
    [FrameType.RESET_STREAM, '__01'],
    [FrameType.STOP_SENDING, '__01'],
    [FrameType.CRYPTO, 'IH_1'],
    [FrameType.NEW_TOKEN, '___1'],
    [0x0b, '__01'],
    [FrameType.MAX_DATA, '__01'],
    [FrameType.NEW_CONNECTION_ID, '__01'],
    [FrameType.PATH_CHALLENGE, '__01'],
    [FrameType.PATH_RESPONSE, '___1'],
    [FrameType.CONNECTION_CLOSE, 'IH01'],
    [FrameType.CONNECTION_CLOSE_APP, '__01'],
    [FrameType.HANDSHAKE_DONE, '___1'],
    [FrameType.DATAGRAM, '__01'],
    [FrameType.DATAGRAM_LEN, '__01'],
  ])('frame 0x%s is allowed in %s', (type, pkts) => {
    const allowed = [Initial, Handshake, ZeroRtt, OneRtt].map((p, i) => (isFrameAllowed(type, p) ? 'IH01'[i] : '_')).join('');
    expect(allowed).toBe(pkts);
  });

  it('rejects a frame in a forbidden packet type with PROTOCOL_VIOLATION and an unknown one with FRAME_ENCODING_ERROR', () => {
    try {
      checkFrameAllowed(FrameType.STREAM, Initial);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(QuicError);
      expect((e as QuicError).code).toBe(TransportErrorCode.PROTOCOL_VIOLATION);
      expect((e as QuicError).frameType).toBe(FrameType.STREAM);
    }
    expect(() => checkFrameAllowed(0x21, OneRtt)).toThrow(expect.objectContaining({ code: TransportErrorCode.FRAME_ENCODING_ERROR }));
    expect(() => checkFrameAllowed(FrameType.HANDSHAKE_DONE, Handshake)).toThrow(QuicError);
    expect(() => checkFrameAllowed(FrameType.ACK, ZeroRtt)).toThrow(QuicError);
    expect(() => checkFrameAllowed(FrameType.CRYPTO, Handshake)).not.toThrow();
  });

  it('knows the Spec column', () => {
    expect([FrameType.ACK, FrameType.PADDING, FrameType.CONNECTION_CLOSE].map(isAckEliciting)).toEqual([false, false, false]);
    expect([FrameType.PING, FrameType.STREAM, FrameType.DATAGRAM].map(isAckEliciting)).toEqual([true, true, true]);
    expect([FrameType.PATH_CHALLENGE, FrameType.PATH_RESPONSE, FrameType.NEW_CONNECTION_ID, FrameType.PADDING].every(isProbingFrame)).toBe(true);
    expect(isProbingFrame(FrameType.PING)).toBe(false);
    expect(countsInFlight(FrameType.ACK)).toBe(false);
    expect(countsInFlight(FrameType.PADDING)).toBe(true);
  });
});
