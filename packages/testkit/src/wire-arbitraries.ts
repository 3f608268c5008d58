// fast-check arbitraries for @gquic/wire values.

import fc from 'fast-check';
import {
  MAX_STREAMS_LIMIT,
  type EcnCounts,
  type Frame,
  type PreferredAddress,
  type TransportParameters,
  type VersionInformation,
} from '@gquic/wire';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Varint values spread over the four encodings, up to 2^53-1. */
export const arbVarint = (max = MAX_SAFE): fc.Arbitrary<number> =>
  fc.oneof(
    fc.integer({ min: 0, max: Math.min(63, max) }),
    fc.integer({ min: 0, max: Math.min(16383, max) }),
    fc.integer({ min: 0, max: Math.min(2 ** 30 - 1, max) }),
    fc.integer({ min: 0, max }),
  );

/** Error codes: exact up to 2^62-1, bigint above 2^53-1. */
export const arbErrorCode: fc.Arbitrary<number | bigint> = fc.oneof(
  arbVarint(),
  fc.bigInt({ min: BigInt(MAX_SAFE) + 1n, max: 2n ** 62n - 1n }),
);

export const arbBytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc.uint8Array({ minLength, maxLength });

export const arbCid = (min = 0): fc.Arbitrary<Uint8Array> => arbBytes(min, 20);

/**
 * Any well-formed Unicode text (no lone surrogates, which UTF-8 cannot carry) up to 60 code points. Built from
 * code points rather than fc.string({ unit: 'binary' }), whose construction costs about a second at import.
 */
const arbReason: fc.Arbitrary<string> = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), { maxLength: 60 })
  .map((cps) => String.fromCodePoint(...cps));

const arbEcn: fc.Arbitrary<EcnCounts> = fc.record({ ect0: arbVarint(), ect1: arbVarint(), ce: arbVarint() });

/** ACK ranges as [largest, smallest] pairs, descending, gaps of at least one packet. */
export const arbAckRanges: fc.Arbitrary<number[]> = fc
  .tuple(arbVarint(2 ** 40), fc.array(fc.tuple(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 40 }))
  .map(([first, rest]) => {
    // Build bottom-up so every number stays >= 0.
    const pairs: Array<[number, number]> = [];
    let lo = 0;
    for (const [gap, len] of rest) {
      const hi = lo + len;
      pairs.push([hi, lo]);
      lo = hi + gap + 2;
    }
    pairs.push([lo + (first % 5000), lo]);
    pairs.reverse();
    return pairs.flat();
  });

export const arbFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('padding' as const), length: fc.integer({ min: 1, max: 1200 }) }),
  fc.constant({ type: 'ping' as const }),
  fc.record({ type: fc.constant('ack' as const), ackDelay: arbVarint(), ranges: arbAckRanges, ecn: fc.option(arbEcn, { nil: null }) }),
  fc.record({ type: fc.constant('reset_stream' as const), streamId: arbVarint(), errorCode: arbErrorCode, finalSize: arbVarint() }),
  fc.record({ type: fc.constant('stop_sending' as const), streamId: arbVarint(), errorCode: arbErrorCode }),
  fc
    .record({ type: fc.constant('crypto' as const), offset: arbVarint(2 ** 40), data: arbBytes(0, 300) }),
  fc.record({ type: fc.constant('new_token' as const), token: arbBytes(1, 200) }),
  fc.record({ type: fc.constant('stream' as const), streamId: arbVarint(), offset: arbVarint(2 ** 50), data: arbBytes(0, 300), fin: fc.boolean() }),
  fc.record({ type: fc.constant('max_data' as const), maximum: arbVarint() }),
  fc.record({ type: fc.constant('max_stream_data' as const), streamId: arbVarint(), maximum: arbVarint() }),
  fc.record({ type: fc.constant('max_streams' as const), bidirectional: fc.boolean(), maximum: arbVarint(Math.min(MAX_SAFE, MAX_STREAMS_LIMIT)) }),
  fc.record({ type: fc.constant('data_blocked' as const), limit: arbVarint() }),
  fc.record({ type: fc.constant('stream_data_blocked' as const), streamId: arbVarint(), limit: arbVarint() }),
  fc.record({ type: fc.constant('streams_blocked' as const), bidirectional: fc.boolean(), limit: arbVarint() }),
  fc
    .tuple(arbVarint(), arbVarint(), arbCid(1), arbBytes(16, 16))
    .map(([a, b, connectionId, statelessResetToken]) => ({
      type: 'new_connection_id' as const,
      sequenceNumber: Math.max(a, b),
      retirePriorTo: Math.min(a, b),
      connectionId,
      statelessResetToken,
    })),
  fc.record({ type: fc.constant('retire_connection_id' as const), sequenceNumber: arbVarint() }),
  fc.record({ type: fc.constant('path_challenge' as const), data: arbBytes(8, 8) }),
  fc.record({ type: fc.constant('path_response' as const), data: arbBytes(8, 8) }),
  fc.oneof(
    fc.record({
      type: fc.constant('connection_close' as const),
      isApplication: fc.constant(false),
      errorCode: arbErrorCode,
      frameType: fc.oneof(arbVarint(), fc.bigInt({ min: BigInt(MAX_SAFE) + 1n, max: 2n ** 62n - 1n })),
      reason: arbReason,
    }),
    fc.record({
      type: fc.constant('connection_close' as const),
      isApplication: fc.constant(true),
      errorCode: arbErrorCode,
      frameType: fc.constant(0),
      reason: arbReason,
    }),
  ),
  fc.constant({ type: 'handshake_done' as const }),
  fc.record({ type: fc.constant('datagram' as const), data: arbBytes(0, 300), withLength: fc.boolean() }),
);

/** True for frames whose extent is the rest of the packet (they must come last; truncation stays valid). */
export function runsToEnd(f: Frame): boolean {
  return f.type === 'padding' || (f.type === 'datagram' && !f.withLength);
}

/** A sequence of frames as a packet payload could hold them (end-running frames only last). */
export const arbFrameSequence: fc.Arbitrary<Frame[]> = fc
  .tuple(fc.array(arbFrame.filter((f) => !runsToEnd(f)), { minLength: 0, maxLength: 8 }), fc.option(arbFrame.filter(runsToEnd), { nil: null }))
  .map(([frames, last]) => (last === null ? frames : [...frames, last]));

const arbPreferredAddress: fc.Arbitrary<PreferredAddress> = fc.record({
  ipv4Address: arbBytes(4, 4),
  ipv4Port: fc.integer({ min: 0, max: 65535 }),
  ipv6Address: arbBytes(16, 16),
  ipv6Port: fc.integer({ min: 0, max: 65535 }),
  connectionId: arbCid(1),
  statelessResetToken: arbBytes(16, 16),
});

const arbVersion = fc.integer({ min: 1, max: 0xffff_ffff });
const arbVersionInformation: fc.Arbitrary<VersionInformation> = fc.record({
  chosenVersion: arbVersion,
  availableVersions: fc.array(arbVersion, { maxLength: 6 }),
});

/** Transport parameters as a `sender` may send them. */
export const arbTransportParameters = (sender: 'client' | 'server'): fc.Arbitrary<TransportParameters> =>
  fc
    .record(
      {
        originalDestinationConnectionId: arbCid(),
        maxIdleTimeout: arbVarint(),
        statelessResetToken: arbBytes(16, 16),
        maxUdpPayloadSize: fc.integer({ min: 1200, max: MAX_SAFE }),
        initialMaxData: arbVarint(),
        initialMaxStreamDataBidiLocal: arbVarint(),
        initialMaxStreamDataBidiRemote: arbVarint(),
        initialMaxStreamDataUni: arbVarint(),
        initialMaxStreamsBidi: arbVarint(),
        initialMaxStreamsUni: arbVarint(),
        ackDelayExponent: fc.integer({ min: 0, max: 20 }),
        maxAckDelay: fc.integer({ min: 0, max: 2 ** 14 - 1 }),
        disableActiveMigration: fc.boolean(),
        preferredAddress: arbPreferredAddress,
        activeConnectionIdLimit: fc.integer({ min: 2, max: MAX_SAFE }),
        initialSourceConnectionId: arbCid(),
        retrySourceConnectionId: arbCid(),
        versionInformation: arbVersionInformation,
        maxDatagramFrameSize: arbVarint(),
        greaseQuicBit: fc.boolean(),
      },
      {
        requiredKeys: [
          'maxIdleTimeout',
          'maxUdpPayloadSize',
          'initialMaxData',
          'initialMaxStreamDataBidiLocal',
          'initialMaxStreamDataBidiRemote',
          'initialMaxStreamDataUni',
          'initialMaxStreamsBidi',
          'initialMaxStreamsUni',
          'ackDelayExponent',
          'maxAckDelay',
          'disableActiveMigration',
          'activeConnectionIdLimit',
          'greaseQuicBit',
        ],
      },
    )
    .map((tp) => {
      if (sender === 'client') {
        delete tp.originalDestinationConnectionId;
        delete tp.statelessResetToken;
        delete tp.preferredAddress;
        delete tp.retrySourceConnectionId;
      }
      return tp as TransportParameters;
    });
