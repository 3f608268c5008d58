// `gquic inspect`: decode a datagram's packet headers (before header protection removal) and, given the
// unprotected payload, its frames and any transport parameters carried in a TLS ClientHello/EncryptedExtensions.

import {
  BufferReader,
  PACKET_TYPE_NAMES,
  PacketHeader,
  PacketType,
  decodeTransportParameters,
  fromHex,
  parsePacketHeader,
  readFrame,
  toHex,
  type Frame,
  type TransportParameters,
} from '@gquic/wire';

export interface InspectedPacket {
  offset: number;
  length: number;
  header: Record<string, unknown>;
  error?: string;
}

export interface InspectResult {
  datagramLength: number;
  packets: InspectedPacket[];
  frames?: Array<Record<string, unknown>>;
  transportParameters?: Record<string, unknown>;
}

/** Parses every coalesced packet of `datagram`. */
export function inspectDatagram(datagram: Uint8Array, shortDcidLength: number): InspectedPacket[] {
  const packets: InspectedPacket[] = [];
  const h = new PacketHeader();
  let offset = 0;
  while (offset < datagram.length) {
    try {
      parsePacketHeader(datagram, offset, shortDcidLength, h);
    } catch (e) {
      packets.push({ offset, length: datagram.length - offset, header: {}, error: (e as Error).message });
      break;
    }
    packets.push({ offset, length: h.end - offset, header: describeHeader(h) });
    offset = h.end;
  }
  return packets;
}

function describeHeader(h: PacketHeader): Record<string, unknown> {
  const out: Record<string, unknown> = {
    form: h.isLong ? 'long' : 'short',
    packet_type: h.type === -1 ? 'unknown_version' : PACKET_TYPE_NAMES[h.type],
  };
  if (h.isLong) out['version'] = `0x${h.version.toString(16).padStart(8, '0')}`;
  out['dcid'] = toHex(h.dcid);
  if (h.isLong) out['scid'] = toHex(h.scid);
  if (h.type === PacketType.Initial || h.type === PacketType.Retry) out['token'] = toHex(h.token);
  if (h.type === PacketType.Retry) out['retry_integrity_tag'] = toHex(h.retryIntegrityTag);
  if (h.type === PacketType.VersionNegotiation) out['supported_versions'] = h.supportedVersions.map((v) => `0x${v.toString(16)}`);
  if (h.pnOffset > 0) {
    if (h.isLong) out['length'] = h.length;
    out['packet_number_offset'] = h.pnOffset;
    out['protected'] = 'first byte and packet number are header-protected (RFC 9001 §5.4)';
  }
  return out;
}

/** Decodes the frames of an unprotected payload. */
export function inspectFrames(payload: Uint8Array): { frames: Array<Record<string, unknown>>; transportParameters?: Record<string, unknown> } {
  const r = new BufferReader(payload);
  const frames: Array<Record<string, unknown>> = [];
  let tp: TransportParameters | undefined;
  while (r.remaining > 0) {
    const f = readFrame(r);
    frames.push(describeFrame(f));
    if (f.type === 'crypto' && f.offset === 0) {
      const found = findTransportParameters(f.data);
      if (found !== null) tp = decodeTransportParameters(found.bytes, found.sender);
    }
  }
  return tp === undefined ? { frames } : { frames, transportParameters: jsonable(tp) as Record<string, unknown> };
}

function describeFrame(f: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = { frame_type: f.type };
  for (const [k, v] of Object.entries(f)) {
    if (k === 'type') continue;
    out[k] = k === 'data' && v instanceof Uint8Array ? { length: v.length, hex: toHex(v.subarray(0, 32)) + (v.length > 32 ? '…' : '') } : jsonable(v);
  }
  return out;
}

function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(jsonable);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

/**
 * Finds the quic_transport_parameters extension (0x39, RFC 9001 §8.2) in a ClientHello or EncryptedExtensions
 * message at the start of `hs`. A small walker for display only; the TLS package owns real parsing.
 */
export function findTransportParameters(hs: Uint8Array): { bytes: Uint8Array; sender: 'client' | 'server' } | null {
  try {
    const r = new BufferReader(hs);
    const msgType = r.u8();
    const len = r.uint(3);
    const body = new BufferReader(r.bytes(len));
    let sender: 'client' | 'server';
    if (msgType === 1) {
      sender = 'client';
      body.skip(2 + 32); // legacy_version, random
      body.skip(body.u8()); // legacy_session_id
      body.skip(body.u16()); // cipher_suites
      body.skip(body.u8()); // legacy_compression_methods
    } else if (msgType === 8) {
      sender = 'server';
    } else return null;
    const ext = new BufferReader(body.bytes(body.u16()));
    while (ext.remaining > 0) {
      const type = ext.u16();
      const data = ext.bytes(ext.u16());
      if (type === 0x39) return { bytes: data, sender };
    }
  } catch {
    return null;
  }
  return null;
}

export function inspect(datagramHex: string, payloadHex: string | undefined, shortDcidLength: number): InspectResult {
  const datagram = fromHex(datagramHex);
  const result: InspectResult = { datagramLength: datagram.length, packets: inspectDatagram(datagram, shortDcidLength) };
  if (payloadHex !== undefined) {
    const { frames, transportParameters } = inspectFrames(fromHex(payloadHex));
    result.frames = frames;
    if (transportParameters !== undefined) result.transportParameters = transportParameters;
  }
  return result;
}
