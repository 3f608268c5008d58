import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbBytes, arbTransportParameters, runs, seed } from '@gquic/testkit';
import { QuicError, TransportErrorCode } from './errors.js';
import { fromHex, toHex } from './hex.js';
import { BufferReader } from './reader.js';
import {
  decodeTransportParameters,
  defaultTransportParameters,
  encodeTransportParameters,
  isReservedTransportParameterId,
  transportParametersSize,
  type TransportParameters,
} from './transport-params.js';
import { QUIC_V1, QUIC_V2 } from './version.js';

const TP_ERROR = TransportErrorCode.TRANSPORT_PARAMETER_ERROR;

function tpErrorOf(hex: string, sender: 'client' | 'server'): number | string {
  try {
    decodeTransportParameters(fromHex(hex), sender);
    return 'accepted';
  } catch (e) {
    if (e instanceof QuicError) return e.code;
    throw e;
  }
}

describe('transport parameters (RFC 9000 §18)', () => {
  it('decodes the parameters of the RFC 9001 A.2 ClientHello (initial_max_data = 2^62-1 saturates)', () => {
    const bytes = fromHex('0408ffffffffffffffff05048000ffff07048000ffff0801100104800075300901100f088394c8f03e51570806048000ffff');
    const tp = decodeTransportParameters(bytes, 'client');
    expect(tp).toEqual({
      ...defaultTransportParameters(),
      initialMaxData: Number.MAX_SAFE_INTEGER,
      initialMaxStreamDataBidiLocal: 65535,
      initialMaxStreamDataBidiRemote: 65535,
      initialMaxStreamDataUni: 65535,
      initialMaxStreamsBidi: 16,
      initialMaxStreamsUni: 16,
      maxIdleTimeout: 30000,
      initialSourceConnectionId: fromHex('8394c8f03e515708'),
    });
  });

  it('encodes version_information, max_datagram_frame_size and grease_quic_bit', () => {
    const tp: TransportParameters = {
      ...defaultTransportParameters(),
      versionInformation: { chosenVersion: QUIC_V1, availableVersions: [QUIC_V2, QUIC_V1] },
      maxDatagramFrameSize: 1200,
      greaseQuicBit: true,
    };
    expect(toHex(encodeTransportParameters(tp))).toBe('110c' + '00000001' + '6b3343cf' + '00000001' + '2002' + '44b0' + '6ab200');
    expect(decodeTransportParameters(encodeTransportParameters(tp), 'client')).toEqual(tp);
  });

  it('skips unknown and reserved parameters, and sends extra ones for greasing', () => {
    expect(isReservedTransportParameterId(27)).toBe(true);
    expect(isReservedTransportParameterId(27 + 31 * 1000)).toBe(true);
    expect(isReservedTransportParameterId(28)).toBe(false);
    const tp = { ...defaultTransportParameters(), initialMaxData: 1000, extra: [{ id: 27 + 31 * 7, value: fromHex('deadbeef') }] };
    const decoded = decodeTransportParameters(encodeTransportParameters(tp), 'server');
    expect(decoded).toEqual({ ...defaultTransportParameters(), initialMaxData: 1000 });
    // An unknown 8-byte id above 2^53-1 is skipped as well.
    expect(decodeTransportParameters(fromHex('ffffffffffffffff0100' + '0104' + '80007530'), 'client').maxIdleTimeout).toBe(30000);
  });

  it.each([
    ['max_udp_payload_size below 1200', '0302444f'],
    ['ack_delay_exponent above 20', '0a0115'],
    ['max_ack_delay of 2^14', '0b0480004000'],
    ['active_connection_id_limit below 2', '0e0101'],
    ['initial_max_streams_bidi above 2^60', '0808d000000000000001'],
    ['initial_max_streams_uni above 2^60', '0908d000000000000001'],
    ['a duplicate parameter', '01010a01010a'],
    ['a duplicate unknown parameter', '4040004040 00'.replace(/ /g, '')],
    ['an integer with trailing bytes', '01020a0a'],
    ['a truncated value', '0104800075'],
    ['disable_active_migration with a value', '0c0101'],
    ['grease_quic_bit with a value', '6ab20101'],
    ['version_information with a partial version', '1106000000010000'],
    ['version_information choosing version 0', '110400000000'],
    ['an initial_source_connection_id over 20 bytes', '0f15' + '00'.repeat(21)],
  ])('rejects %s with TRANSPORT_PARAMETER_ERROR', (_name, hex) => {
    expect(tpErrorOf(hex, 'server')).toBe(TP_ERROR);
  });

  it.each([
    ['original_destination_connection_id', '0008' + '00'.repeat(8)],
    ['stateless_reset_token', '0210' + '00'.repeat(16)],
    ['preferred_address', '0d31' + '00'.repeat(4 + 2 + 16 + 2) + '08' + '11'.repeat(8) + '22'.repeat(16)],
    ['retry_source_connection_id', '1004aabbccdd'],
  ])('rejects the server-only %s from a client, accepts it from a server', (_name, hex) => {
    expect(tpErrorOf(hex, 'client')).toBe(TP_ERROR);
    expect(tpErrorOf(hex, 'server')).toBe('accepted');
  });

  it('rejects a preferred_address with an empty connection ID, or a bad token length', () => {
    expect(tpErrorOf('0d29' + '00'.repeat(24) + '00' + '22'.repeat(16), 'server')).toBe(TP_ERROR);
    expect(tpErrorOf('0210' + '00'.repeat(15), 'server')).toBe(TP_ERROR);
    expect(tpErrorOf('020f' + '00'.repeat(15), 'server')).toBe(TP_ERROR);
  });

  it('refuses to encode invalid values', () => {
    expect(() => encodeTransportParameters({ ...defaultTransportParameters(), maxUdpPayloadSize: 1000 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ ...defaultTransportParameters(), ackDelayExponent: 21 })).toThrow(RangeError);
    expect(() => encodeTransportParameters({ ...defaultTransportParameters(), extra: [{ id: 1, value: new Uint8Array(1) }] })).toThrow(RangeError);
  });
});

/** Offsets at which each parameter of an encoding starts (and the end). */
function boundaries(bytes: Uint8Array): number[] {
  const r = new BufferReader(bytes);
  const out = [0];
  while (r.remaining > 0) {
    r.varintSaturating();
    r.skip(r.varint());
    out.push(r.pos);
  }
  return out;
}

describe('transport parameter properties', () => {
  it.each(['client', 'server'] as const)('decode(encode(tp)) = tp for parameters sent by a %s, and the size is exact', (sender) => {
    fc.assert(
      fc.property(arbTransportParameters(sender), (tp) => {
        const bytes = encodeTransportParameters(tp);
        expect(bytes.length).toBe(transportParametersSize(tp));
        expect(decodeTransportParameters(bytes, sender)).toEqual({ ...defaultTransportParameters(), ...tp });
      }),
      { numRuns: runs(5_000), ...seed() },
    );
  });

  it('a truncation inside a parameter is TRANSPORT_PARAMETER_ERROR; one between parameters decodes the ones before', () => {
    fc.assert(
      fc.property(arbTransportParameters('server'), fc.nat(), (tp, cut) => {
        const bytes = encodeTransportParameters(tp);
        if (bytes.length === 0) return;
        const n = cut % bytes.length;
        const b = boundaries(bytes);
        if (b.includes(n)) {
          const prefix = decodeTransportParameters(bytes.subarray(0, n), 'server');
          expect(encodeTransportParameters(prefix)).toEqual(bytes.subarray(0, n));
        } else {
          expect(tpErrorOf(toHex(bytes.subarray(0, n)), 'server')).toBe(TP_ERROR);
        }
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });

  it('arbitrary bytes decode or give TRANSPORT_PARAMETER_ERROR, never another exception', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          arbBytes(0, 300),
          // Known ids with random lengths and values.
          fc
            .array(fc.tuple(fc.integer({ min: 0, max: 0x21 }), arbBytes(0, 30)), { maxLength: 10 })
            .map((ps) => Uint8Array.from(ps.flatMap(([id, v]) => [id, v.length, ...v]))),
        ),
        fc.constantFrom('client' as const, 'server' as const),
        (bytes, sender) => {
          try {
            decodeTransportParameters(bytes, sender);
          } catch (e) {
            if (!(e instanceof QuicError) || e.code !== TP_ERROR) throw e;
          }
        },
      ),
      { numRuns: runs(15_000), ...seed() },
    );
  });
});
