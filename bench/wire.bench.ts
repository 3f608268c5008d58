// @gquic/wire micro-benchmarks: a typical 1-RTT payload (one ACK with 3 ranges + one 1100-byte STREAM frame)
// and a full set of transport parameters, parsed and serialized. Runs on the built package (dist/).

import {
  BufferReader,
  BufferWriter,
  PacketHeader,
  decodeTransportParameters,
  encodeTransportParameters,
  parsePacketHeader,
  readFrame,
  readPacketNumber,
  writeAck,
  writeShortHeader,
  writeStreamFrame,
  type TransportParameters,
} from '@gquic/wire';
import { runCases, type Row } from './lib.js';

const BATCH = 1000;

export async function benchWire(): Promise<Row[]> {
  const data = new Uint8Array(1100).fill(0x61);
  const ranges = [1_000_120, 1_000_100, 1_000_090, 1_000_080, 1_000_060, 1_000_000];
  const payload = new Uint8Array(1200);
  const w = new BufferWriter();
  const writePayload = (): number => {
    w.reset(payload);
    writeAck(w, 2500, ranges, null);
    writeStreamFrame(w, 4, 3_000_000, data, false, false);
    return w.pos;
  };
  const payloadLength = writePayload();
  const r = new BufferReader();
  let sink = 0;

  const dcid = new Uint8Array(8).fill(7);
  const packet = new Uint8Array(1252);
  const pw = new BufferWriter(packet);
  writeShortHeader(pw, dcid, 0, 0, 2, 0x1234);
  pw.bytes(payload.subarray(0, payloadLength));
  const header = new PacketHeader();

  const tp: TransportParameters = {
    originalDestinationConnectionId: new Uint8Array(8).fill(1),
    maxIdleTimeout: 30_000,
    statelessResetToken: new Uint8Array(16).fill(2),
    maxUdpPayloadSize: 1472,
    initialMaxData: 16 * 1024 * 1024,
    initialMaxStreamDataBidiLocal: 1024 * 1024,
    initialMaxStreamDataBidiRemote: 1024 * 1024,
    initialMaxStreamDataUni: 1024 * 1024,
    initialMaxStreamsBidi: 100,
    initialMaxStreamsUni: 100,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    preferredAddress: {
      ipv4Address: Uint8Array.of(127, 0, 0, 1),
      ipv4Port: 4433,
      ipv6Address: new Uint8Array(16),
      ipv6Port: 4433,
      connectionId: new Uint8Array(8).fill(3),
      statelessResetToken: new Uint8Array(16).fill(4),
    },
    activeConnectionIdLimit: 8,
    initialSourceConnectionId: new Uint8Array(8).fill(5),
    retrySourceConnectionId: new Uint8Array(8).fill(6),
    versionInformation: { chosenVersion: 1, availableVersions: [1, 0x6b3343cf] },
    maxDatagramFrameSize: 65535,
    greaseQuicBit: true,
  };
  const tpBytes = encodeTransportParameters(tp);

  const rows = await runCases(`@gquic/wire (${payloadLength}-byte 1-RTT payload: ACK with 3 ranges + 1100-byte STREAM; ${tpBytes.length}-byte transport parameters)`, [
    {
      name: 'parse 1-RTT payload (ACK + STREAM)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          r.reset(payload, 0, payloadLength);
          while (r.remaining > 0) {
            const f = readFrame(r);
            sink += f.type.length;
          }
        }
      },
    },
    {
      name: 'serialize 1-RTT payload (ACK + STREAM)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) sink += writePayload();
      },
    },
    {
      name: 'parse short header (2 steps)',
      batch: BATCH,
      fn: () => {
        for (let i = 0; i < BATCH; i++) {
          parsePacketHeader(packet, 0, 8, header);
          readPacketNumber(header);
          sink += header.truncatedPn;
        }
      },
    },
    {
      name: 'parse transport parameters (full set)',
      batch: BATCH / 10,
      fn: () => {
        for (let i = 0; i < BATCH / 10; i++) sink += decodeTransportParameters(tpBytes, 'server').maxAckDelay;
      },
    },
    {
      name: 'serialize transport parameters (full set)',
      batch: BATCH / 10,
      fn: () => {
        for (let i = 0; i < BATCH / 10; i++) sink += encodeTransportParameters(tp).length;
      },
    },
  ]);
  if (sink === 0) console.log('');
  return rows;
}
