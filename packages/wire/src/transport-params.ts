// RFC 9000 §18 transport parameters, with version_information (RFC 9368 §5), max_datagram_frame_size
// (RFC 9221 §3) and grease_quic_bit (RFC 9287 §3).
//
// Above 2^53-1: limits (initial_max_*, max_idle_timeout, max_udp_payload_size, active_connection_id_limit,
// max_datagram_frame_size) saturate to Number.MAX_SAFE_INTEGER, i.e. "unlimited" for any amount a connection
// can use; initial_max_streams_* above 2^60 are TRANSPORT_PARAMETER_ERROR (§4.6); ack_delay_exponent and
// max_ack_delay have small upper bounds checked exactly. Parameter ids above 2^53-1 are unknown ids, skipped.

import { QuicError, TransportErrorCode } from './errors.js';
import { MAX_CID_LENGTH } from './packet-header.js';
import { BufferReader } from './reader.js';
import { varintSize } from './varint.js';
import { BufferWriter } from './writer.js';

export const TransportParameterId = {
  original_destination_connection_id: 0x00,
  max_idle_timeout: 0x01,
  stateless_reset_token: 0x02,
  max_udp_payload_size: 0x03,
  initial_max_data: 0x04,
  initial_max_stream_data_bidi_local: 0x05,
  initial_max_stream_data_bidi_remote: 0x06,
  initial_max_stream_data_uni: 0x07,
  initial_max_streams_bidi: 0x08,
  initial_max_streams_uni: 0x09,
  ack_delay_exponent: 0x0a,
  max_ack_delay: 0x0b,
  disable_active_migration: 0x0c,
  preferred_address: 0x0d,
  active_connection_id_limit: 0x0e,
  initial_source_connection_id: 0x0f,
  retry_source_connection_id: 0x10,
  version_information: 0x11,
  max_datagram_frame_size: 0x20,
  grease_quic_bit: 0x2ab2,
} as const;

const P = TransportParameterId;
const TP_ERROR = TransportErrorCode.TRANSPORT_PARAMETER_ERROR;

export interface PreferredAddress {
  /** 4 bytes; all zero with port 0 when the server has no IPv4 address to offer. */
  ipv4Address: Uint8Array;
  ipv4Port: number;
  /** 16 bytes */
  ipv6Address: Uint8Array;
  ipv6Port: number;
  connectionId: Uint8Array;
  statelessResetToken: Uint8Array;
}

/** RFC 9368 §5 */
export interface VersionInformation {
  chosenVersion: number;
  availableVersions: number[];
}

export interface TransportParameters {
  originalDestinationConnectionId?: Uint8Array;
  /** Milliseconds; 0 means no idle timeout. */
  maxIdleTimeout: number;
  statelessResetToken?: Uint8Array;
  maxUdpPayloadSize: number;
  initialMaxData: number;
  initialMaxStreamDataBidiLocal: number;
  initialMaxStreamDataBidiRemote: number;
  initialMaxStreamDataUni: number;
  initialMaxStreamsBidi: number;
  initialMaxStreamsUni: number;
  ackDelayExponent: number;
  /** Milliseconds. */
  maxAckDelay: number;
  disableActiveMigration: boolean;
  preferredAddress?: PreferredAddress;
  activeConnectionIdLimit: number;
  initialSourceConnectionId?: Uint8Array;
  retrySourceConnectionId?: Uint8Array;
  versionInformation?: VersionInformation;
  /** Absent: DATAGRAM frames not supported (RFC 9221 §3). */
  maxDatagramFrameSize?: number;
  greaseQuicBit: boolean;
  /**
   * Encoding only: extra parameters to send, e.g. reserved ids (31 * N + 27, RFC 9000 §18.1) to grease
   * peers. Decoding skips unknown and reserved ids and never fills this.
   */
  extra?: Array<{ id: number; value: Uint8Array }>;
}

/** RFC 9000 §18.2 defaults for absent parameters. */
export function defaultTransportParameters(): TransportParameters {
  return {
    maxIdleTimeout: 0,
    maxUdpPayloadSize: 65527,
    initialMaxData: 0,
    initialMaxStreamDataBidiLocal: 0,
    initialMaxStreamDataBidiRemote: 0,
    initialMaxStreamDataUni: 0,
    initialMaxStreamsBidi: 0,
    initialMaxStreamsUni: 0,
    ackDelayExponent: 3,
    maxAckDelay: 25,
    disableActiveMigration: false,
    activeConnectionIdLimit: 2,
    greaseQuicBit: false,
  };
}

/** RFC 9000 §18.1: reserved parameter ids 31 * N + 27. */
export function isReservedTransportParameterId(id: number): boolean {
  return id >= 27 && (id - 27) % 31 === 0;
}

export type Sender = 'client' | 'server';

const KNOWN_IDS: ReadonlySet<number> = new Set(Object.values(P));

function tpError(reason: string): QuicError {
  return new QuicError(TP_ERROR, reason);
}

/**
 * Decodes the transport parameters sent by `sender` and enforces RFC 9000 §18.2 (and §7.4): values in range,
 * server-only parameters not from a client, no duplicates. Every failure is TRANSPORT_PARAMETER_ERROR.
 */
export function decodeTransportParameters(bytes: Uint8Array, sender: Sender): TransportParameters {
  const tp = defaultTransportParameters();
  const r = new BufferReader(bytes, 0, bytes.length, TP_ERROR);
  const v = new BufferReader();
  const seen = new Set<number>();
  while (r.remaining > 0) {
    const id = r.varintSaturating();
    const length = r.varint(TP_ERROR);
    const value = r.bytes(length);
    if (seen.has(id)) throw tpError(`duplicate transport parameter 0x${id.toString(16)}`);
    seen.add(id);
    if (!KNOWN_IDS.has(id)) continue; // unknown and reserved ids are ignored (§18.1, §7.4.2)
    v.reset(value, 0, value.length, TP_ERROR);
    switch (id) {
      case P.original_destination_connection_id:
        serverOnly(sender, 'original_destination_connection_id');
        tp.originalDestinationConnectionId = cid(v);
        break;
      case P.max_idle_timeout:
        tp.maxIdleTimeout = int(v, true);
        break;
      case P.stateless_reset_token:
        serverOnly(sender, 'stateless_reset_token');
        if (length !== 16) throw tpError('stateless_reset_token must be 16 bytes');
        tp.statelessResetToken = v.copy(16);
        break;
      case P.max_udp_payload_size:
        tp.maxUdpPayloadSize = int(v, true);
        if (tp.maxUdpPayloadSize < 1200) throw tpError('max_udp_payload_size below 1200');
        break;
      case P.initial_max_data:
        tp.initialMaxData = int(v, true);
        break;
      case P.initial_max_stream_data_bidi_local:
        tp.initialMaxStreamDataBidiLocal = int(v, true);
        break;
      case P.initial_max_stream_data_bidi_remote:
        tp.initialMaxStreamDataBidiRemote = int(v, true);
        break;
      case P.initial_max_stream_data_uni:
        tp.initialMaxStreamDataUni = int(v, true);
        break;
      case P.initial_max_streams_bidi:
        tp.initialMaxStreamsBidi = streamCount(v);
        break;
      case P.initial_max_streams_uni:
        tp.initialMaxStreamsUni = streamCount(v);
        break;
      case P.ack_delay_exponent:
        tp.ackDelayExponent = int(v, true);
        if (tp.ackDelayExponent > 20) throw tpError('ack_delay_exponent above 20');
        break;
      case P.max_ack_delay:
        tp.maxAckDelay = int(v, true);
        if (tp.maxAckDelay >= 2 ** 14) throw tpError('max_ack_delay of 2^14 or more');
        break;
      case P.disable_active_migration:
        if (length !== 0) throw tpError('disable_active_migration must be empty');
        tp.disableActiveMigration = true;
        break;
      case P.preferred_address:
        serverOnly(sender, 'preferred_address');
        tp.preferredAddress = preferredAddress(v);
        break;
      case P.active_connection_id_limit:
        tp.activeConnectionIdLimit = int(v, true);
        if (tp.activeConnectionIdLimit < 2) throw tpError('active_connection_id_limit below 2');
        break;
      case P.initial_source_connection_id:
        tp.initialSourceConnectionId = cid(v);
        break;
      case P.retry_source_connection_id:
        serverOnly(sender, 'retry_source_connection_id');
        tp.retrySourceConnectionId = cid(v);
        break;
      case P.version_information:
        tp.versionInformation = versionInformation(v);
        break;
      case P.max_datagram_frame_size:
        tp.maxDatagramFrameSize = int(v, true);
        break;
      case P.grease_quic_bit:
        if (length !== 0) throw tpError('grease_quic_bit must be empty');
        tp.greaseQuicBit = true;
        break;
    }
  }
  return tp;
}

function serverOnly(sender: Sender, name: string): void {
  // RFC 9000 §18.2: a client MUST NOT send these; the server treats them as TRANSPORT_PARAMETER_ERROR.
  if (sender === 'client') throw tpError(`${name} sent by a client`);
}

/** A parameter whose value is exactly one varint. */
function int(v: BufferReader, saturate: boolean): number {
  const n = saturate ? v.varintSaturating() : v.varint(TP_ERROR);
  if (v.remaining !== 0) throw tpError('integer parameter with trailing bytes');
  return n;
}

function streamCount(v: BufferReader): number {
  const n = int(v, true);
  if (v.lastAbove2Pow60) throw tpError('initial_max_streams above 2^60');
  return n;
}

function cid(v: BufferReader): Uint8Array {
  if (v.remaining > MAX_CID_LENGTH) throw tpError('connection ID longer than 20 bytes');
  return v.copy(v.remaining);
}

function preferredAddress(v: BufferReader): PreferredAddress {
  // RFC 9000 §18.2 Figure 22
  const ipv4Address = v.copy(4);
  const ipv4Port = v.u16();
  const ipv6Address = v.copy(16);
  const ipv6Port = v.u16();
  const cidLength = v.u8();
  // A zero-length connection ID in preferred_address is TRANSPORT_PARAMETER_ERROR.
  if (cidLength === 0 || cidLength > MAX_CID_LENGTH) throw tpError('preferred_address: bad connection ID length');
  const connectionId = v.copy(cidLength);
  const statelessResetToken = v.copy(16);
  if (v.remaining !== 0) throw tpError('preferred_address: trailing bytes');
  return { ipv4Address, ipv4Port, ipv6Address, ipv6Port, connectionId, statelessResetToken };
}

function versionInformation(v: BufferReader): VersionInformation {
  // RFC 9368 §5: Chosen Version then Available Versions, 32 bits each; a zero version is a parse failure.
  if (v.remaining < 4 || v.remaining % 4 !== 0) throw tpError('version_information: bad length');
  const chosenVersion = v.u32();
  if (chosenVersion === 0) throw tpError('version_information: chosen version 0');
  const availableVersions: number[] = [];
  while (v.remaining > 0) {
    const av = v.u32();
    if (av === 0) throw tpError('version_information: available version 0');
    availableVersions.push(av);
  }
  return { chosenVersion, availableVersions };
}

const DEFAULTS = defaultTransportParameters();

/** Encoded size of `tp` as `writeTransportParameters` writes it. */
export function transportParametersSize(tp: TransportParameters): number {
  return emitParameters(tp, null);
}

/** Encodes `tp` into a new array; parameters equal to their default are omitted. */
export function encodeTransportParameters(tp: TransportParameters): Uint8Array {
  const out = new Uint8Array(transportParametersSize(tp));
  emitParameters(tp, new BufferWriter(out));
  return out;
}

/** Writes `tp` at the writer's cursor (for building the TLS extension in place). */
export function writeTransportParameters(w: BufferWriter, tp: TransportParameters): void {
  emitParameters(tp, w);
}

/** Walks the parameters to send in id order: counts their size, and writes them when `w` is given. */
function emitParameters(tp: TransportParameters, w: BufferWriter | null): number {
  let size = 0;
  const bytesParam = (id: number, b: Uint8Array | undefined): void => {
    if (b === undefined) return;
    size += varintSize(id) + varintSize(b.length) + b.length;
    if (w === null) return;
    w.varint(id);
    w.varint(b.length);
    w.bytes(b);
  };
  const intParam = (id: number, value: number, dflt: number | undefined): void => {
    if (value === dflt) return;
    const len = varintSize(value);
    size += varintSize(id) + varintSize(len) + len;
    if (w === null) return;
    w.varint(id);
    w.varint(len);
    w.varint(value);
  };
  const flag = (id: number, on: boolean): void => {
    if (!on) return;
    size += varintSize(id) + 1;
    if (w === null) return;
    w.varint(id);
    w.varint(0);
  };
  bytesParam(P.original_destination_connection_id, checkCid(tp.originalDestinationConnectionId));
  intParam(P.max_idle_timeout, tp.maxIdleTimeout, DEFAULTS.maxIdleTimeout);
  if (tp.statelessResetToken !== undefined && tp.statelessResetToken.length !== 16) throw new RangeError('stateless_reset_token must be 16 bytes');
  bytesParam(P.stateless_reset_token, tp.statelessResetToken);
  if (tp.maxUdpPayloadSize < 1200) throw new RangeError('max_udp_payload_size below 1200');
  intParam(P.max_udp_payload_size, tp.maxUdpPayloadSize, DEFAULTS.maxUdpPayloadSize);
  intParam(P.initial_max_data, tp.initialMaxData, 0);
  intParam(P.initial_max_stream_data_bidi_local, tp.initialMaxStreamDataBidiLocal, 0);
  intParam(P.initial_max_stream_data_bidi_remote, tp.initialMaxStreamDataBidiRemote, 0);
  intParam(P.initial_max_stream_data_uni, tp.initialMaxStreamDataUni, 0);
  if (tp.initialMaxStreamsBidi > 2 ** 60 || tp.initialMaxStreamsUni > 2 ** 60) throw new RangeError('initial_max_streams above 2^60');
  intParam(P.initial_max_streams_bidi, tp.initialMaxStreamsBidi, 0);
  intParam(P.initial_max_streams_uni, tp.initialMaxStreamsUni, 0);
  if (tp.ackDelayExponent > 20) throw new RangeError('ack_delay_exponent above 20');
  intParam(P.ack_delay_exponent, tp.ackDelayExponent, DEFAULTS.ackDelayExponent);
  if (tp.maxAckDelay >= 2 ** 14) throw new RangeError('max_ack_delay of 2^14 or more');
  intParam(P.max_ack_delay, tp.maxAckDelay, DEFAULTS.maxAckDelay);
  flag(P.disable_active_migration, tp.disableActiveMigration);
  bytesParam(P.preferred_address, tp.preferredAddress === undefined ? undefined : encodePreferredAddress(tp.preferredAddress));
  if (tp.activeConnectionIdLimit < 2) throw new RangeError('active_connection_id_limit below 2');
  intParam(P.active_connection_id_limit, tp.activeConnectionIdLimit, DEFAULTS.activeConnectionIdLimit);
  bytesParam(P.initial_source_connection_id, checkCid(tp.initialSourceConnectionId));
  bytesParam(P.retry_source_connection_id, checkCid(tp.retrySourceConnectionId));
  bytesParam(P.version_information, tp.versionInformation === undefined ? undefined : encodeVersionInformation(tp.versionInformation));
  if (tp.maxDatagramFrameSize !== undefined) intParam(P.max_datagram_frame_size, tp.maxDatagramFrameSize, undefined);
  flag(P.grease_quic_bit, tp.greaseQuicBit);
  for (const e of tp.extra ?? []) {
    if (KNOWN_IDS.has(e.id)) throw new RangeError(`extra transport parameter 0x${e.id.toString(16)} is a known id`);
    bytesParam(e.id, e.value);
  }
  return size;
}

function checkCid(c: Uint8Array | undefined): Uint8Array | undefined {
  if (c !== undefined && c.length > MAX_CID_LENGTH) throw new RangeError('connection ID longer than 20 bytes');
  return c;
}

function encodePreferredAddress(pa: PreferredAddress): Uint8Array {
  if (pa.ipv4Address.length !== 4 || pa.ipv6Address.length !== 16) throw new RangeError('preferred_address: bad address length');
  if (pa.connectionId.length < 1 || pa.connectionId.length > MAX_CID_LENGTH) throw new RangeError('preferred_address: connection ID must be 1-20 bytes');
  if (pa.statelessResetToken.length !== 16) throw new RangeError('preferred_address: stateless reset token must be 16 bytes');
  const out = new Uint8Array(4 + 2 + 16 + 2 + 1 + pa.connectionId.length + 16);
  const w = new BufferWriter(out);
  w.bytes(pa.ipv4Address);
  w.u16(pa.ipv4Port);
  w.bytes(pa.ipv6Address);
  w.u16(pa.ipv6Port);
  w.u8(pa.connectionId.length);
  w.bytes(pa.connectionId);
  w.bytes(pa.statelessResetToken);
  return out;
}

function encodeVersionInformation(vi: VersionInformation): Uint8Array {
  const out = new Uint8Array(4 + 4 * vi.availableVersions.length);
  const w = new BufferWriter(out);
  w.u32(vi.chosenVersion >>> 0);
  for (const v of vi.availableVersions) w.u32(v >>> 0);
  return out;
}
