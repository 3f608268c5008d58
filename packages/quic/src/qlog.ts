// qlog (draft-ietf-quic-qlog-main-schema, -quic-events): one trace per connection as JSON Text Sequences
// (RFC 7464), viewable in qvis. The core formats records; a sink (a file in the Node adapter) stores them.
// Nothing is built unless a sink is configured.

import type { Frame } from '@gquic/wire';

export interface QlogSink {
  /** One JSON-SEQ record: RS, JSON, LF. */
  write(record: string): void;
  /** The connection ended: flush and release. */
  close?(): void;
}

/** Makes a sink per connection (or none): `odcid` is the original destination CID in hex. */
export type QlogFactory = (odcid: string, vantage: 'client' | 'server') => QlogSink | undefined;

const RS = '\u001e';

export class QlogTrace {
  private readonly startUs: number;

  constructor(
    private readonly sink: QlogSink,
    vantage: 'client' | 'server',
    groupId: string,
    startUs: number,
  ) {
    this.startUs = startUs;
    const header = {
      file_schema: 'urn:ietf:params:qlog:file:sequential',
      serialization_format: 'application/qlog+json-seq',
      title: `gquic ${vantage} ${groupId}`,
      trace: {
        common_fields: { group_id: groupId, time_format: 'relative_to_epoch', reference_time: { clock_type: 'system', epoch: new Date(startUs / 1000).toISOString() } },
        vantage_point: { name: 'gquic', type: vantage },
        event_schemas: ['urn:ietf:params:qlog:events:quic'],
      },
    };
    sink.write(RS + JSON.stringify(header) + '\n');
  }

  event(nowUs: number, name: string, data: unknown): void {
    this.sink.write(RS + JSON.stringify({ time: (nowUs - this.startUs) / 1000, name: `quic:${name}`, data }, bigintToString) + '\n');
  }

  close(): void {
    this.sink.close?.();
  }
}

function bigintToString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export const QLOG_PACKET_TYPES = ['initial', 'handshake', '1RTT'] as const;

/** A decoded frame as a qlog QuicFrame (payload bytes are not logged, only lengths). */
export function qlogFrame(f: Frame): Record<string, unknown> {
  switch (f.type) {
    case 'padding':
      return { frame_type: 'padding', raw: { length: f.length } };
    case 'ack': {
      const acked: Array<[number, number]> = [];
      for (let i = f.ranges.length - 2; i >= 0; i -= 2) acked.push([f.ranges[i + 1]!, f.ranges[i]!]);
      return { frame_type: 'ack', ack_delay: f.ackDelay, acked_ranges: acked.reverse() };
    }
    case 'crypto':
      return { frame_type: 'crypto', offset: f.offset, raw: { length: f.data.length } };
    case 'stream':
      return { frame_type: 'stream', stream_id: f.streamId, offset: f.offset, raw: { length: f.data.length }, fin: f.fin };
    case 'new_token':
      return { frame_type: 'new_token', token: { raw: { length: f.token.length } } };
    case 'new_connection_id':
      return { frame_type: 'new_connection_id', sequence_number: f.sequenceNumber, retire_prior_to: f.retirePriorTo, connection_id: hex(f.connectionId) };
    case 'path_challenge':
    case 'path_response':
      return { frame_type: f.type, data: hex(f.data) };
    case 'connection_close':
      return { frame_type: 'connection_close', error_space: f.isApplication ? 'application' : 'transport', error_code: f.errorCode, reason: f.reason };
    case 'datagram':
      return { frame_type: 'datagram', raw: { length: f.data.length } };
    case 'max_streams':
    case 'streams_blocked':
      return { ...withoutType(f), frame_type: f.type, stream_type: f.bidirectional ? 'bidirectional' : 'unidirectional' };
    default:
      return { ...withoutType(f), frame_type: f.type };
  }
}

function withoutType(f: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(f)) if (k !== 'type' && k !== 'bidirectional') out[snake(k)] = v;
  return out;
}

function snake(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}
