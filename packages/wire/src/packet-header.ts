// RFC 9000 §17 packet headers (RFC 8999 invariants, RFC 9369 §3.2 v2 type bits).
//
// Parsing happens in two steps, because header protection (RFC 9001 §5.4) hides the low bits of the first
// byte and the packet number:
//  1. `parsePacketHeader` reads what is visible before header protection is removed: form, version, CIDs,
//     token, Length, and where the packet number starts (and so where the packet ends, for coalescing).
//  2. After the caller removes header protection in place, `readPacketNumber` reads the packet number length,
//     the truncated packet number, the key phase and spin bits, and the reserved bits.
// One mutable `PacketHeader` is reused across packets; offsets point into the datagram, nothing is copied.

import { QuicError, TransportErrorCode } from './errors.js';
import { BufferReader } from './reader.js';
import { BufferWriter } from './writer.js';
import { isSupportedVersion, longTypeBits, longTypeFromBits, PacketType, VERSION_NEGOTIATION } from './version.js';

/** RFC 9000 §17.2: connection IDs in v1 (and v2) are at most 20 bytes. */
export const MAX_CID_LENGTH = 20;
/** RFC 9001 §5.4.2: header protection samples 16 bytes starting 4 bytes after the packet number offset. */
export const HP_SAMPLE_OFFSET = 4;
export const HP_SAMPLE_LENGTH = 16;
/** RFC 9001 §5.8: the Retry Integrity Tag. */
export const RETRY_INTEGRITY_TAG_LENGTH = 16;
/** Our long-header packets carry a 2-byte Length field, so they are at most 16383 bytes after it. */
export const MAX_LONG_PACKET_LENGTH_FIELD = 0x3fff;

const INVALID = TransportErrorCode.PROTOCOL_VIOLATION;

/** The fields of one packet's header, filled by `parsePacketHeader` and `readPacketNumber`. */
export class PacketHeader {
  /** The datagram the offsets refer to. */
  buf: Uint8Array = new Uint8Array(0);
  /** Where the packet starts and ends in `buf` (end is exclusive; the next coalesced packet starts there). */
  offset = 0;
  end = 0;
  isLong = false;
  /** The packet type; -1 for a long header of an unsupported version (only invariant fields are parsed). */
  type: PacketType | -1 = PacketType.OneRtt;
  version = 0;
  /** The first byte as received (still protected for Initial/0-RTT/Handshake/1-RTT). */
  firstByte = 0;
  fixedBit = true;
  dcidOffset = 0;
  dcidLength = 0;
  scidOffset = 0;
  scidLength = 0;
  /** Initial: token; Retry: retry token. */
  tokenOffset = 0;
  tokenLength = 0;
  /** The Length field (packet number + payload), long headers with a packet number. */
  length = 0;
  /** Where the (protected) packet number starts; 0 when the packet has none (Retry, VN). */
  pnOffset = 0;
  // Step 2, after header protection removal:
  pnLength = 0;
  truncatedPn = 0;
  keyPhase = 0;
  spinBit = 0;
  reservedBits = 0;
  /** Where the (encrypted) payload starts: pnOffset + pnLength. */
  payloadOffset = 0;

  get dcid(): Uint8Array {
    return this.buf.subarray(this.dcidOffset, this.dcidOffset + this.dcidLength);
  }
  get scid(): Uint8Array {
    return this.buf.subarray(this.scidOffset, this.scidOffset + this.scidLength);
  }
  get token(): Uint8Array {
    return this.buf.subarray(this.tokenOffset, this.tokenOffset + this.tokenLength);
  }
  /** Retry: the integrity tag (the last 16 bytes). */
  get retryIntegrityTag(): Uint8Array {
    return this.buf.subarray(this.end - RETRY_INTEGRITY_TAG_LENGTH, this.end);
  }
  /** Version Negotiation: the Supported Version list. */
  get supportedVersions(): number[] {
    const out: number[] = [];
    const r = new BufferReader(this.buf, this.scidOffset + this.scidLength, this.end, INVALID);
    while (r.remaining > 0) out.push(r.u32());
    return out;
  }
}

const scratch = new BufferReader();

/**
 * Step 1: parse the header of the packet starting at `offset` of `datagram`, before header protection
 * removal. `shortDcidLength` is the length of our connection IDs (short headers do not carry it).
 * Throws a QuicError (PROTOCOL_VIOLATION) when the packet is malformed: the caller drops it (and, for a
 * coalesced packet, the rest of the datagram).
 */
export function parsePacketHeader(datagram: Uint8Array, offset: number, shortDcidLength: number, out: PacketHeader): PacketHeader {
  const r = scratch.reset(datagram, offset, datagram.length, INVALID);
  out.buf = datagram;
  out.offset = offset;
  out.pnOffset = 0;
  out.pnLength = 0;
  out.payloadOffset = 0;
  out.tokenOffset = 0;
  out.tokenLength = 0;
  out.length = 0;
  out.scidOffset = 0;
  out.scidLength = 0;
  const first = r.u8();
  out.firstByte = first;
  out.fixedBit = (first & 0x40) !== 0;
  if ((first & 0x80) === 0) {
    // RFC 9000 §17.3.1: 1-RTT packet.
    out.isLong = false;
    out.type = PacketType.OneRtt;
    out.version = 0;
    out.dcidOffset = r.pos;
    out.dcidLength = shortDcidLength;
    r.skip(shortDcidLength);
    out.pnOffset = r.pos;
    out.end = datagram.length;
    if (out.end - out.pnOffset < HP_SAMPLE_OFFSET + HP_SAMPLE_LENGTH) throw new QuicError(INVALID, 'packet too short for header protection sample');
    return out;
  }
  out.isLong = true;
  const version = r.u32();
  out.version = version;
  // RFC 8999 §5.1: the invariant fields. Other versions may use CIDs up to 255 bytes.
  out.dcidLength = r.u8();
  out.dcidOffset = r.pos;
  r.skip(out.dcidLength);
  out.scidLength = r.u8();
  out.scidOffset = r.pos;
  r.skip(out.scidLength);
  if (version === VERSION_NEGOTIATION) {
    // RFC 9000 §17.2.1
    out.type = PacketType.VersionNegotiation;
    out.end = datagram.length;
    const n = out.end - r.pos;
    if (n === 0 || n % 4 !== 0) throw new QuicError(INVALID, 'version negotiation: bad supported version list');
    return out;
  }
  if (!isSupportedVersion(version)) {
    out.type = -1;
    out.end = datagram.length;
    return out;
  }
  // RFC 9000 §17.2: v1 connection IDs longer than 20 bytes make the packet invalid.
  if (out.dcidLength > MAX_CID_LENGTH || out.scidLength > MAX_CID_LENGTH) throw new QuicError(INVALID, 'connection ID longer than 20 bytes');
  const type = longTypeFromBits(version, (first >> 4) & 3);
  out.type = type;
  if (type === PacketType.Retry) {
    // RFC 9000 §17.2.5: Retry Token fills the packet up to the 16-byte integrity tag.
    out.end = datagram.length;
    const tokenLength = out.end - r.pos - RETRY_INTEGRITY_TAG_LENGTH;
    if (tokenLength < 0) throw new QuicError(INVALID, 'retry: too short for integrity tag');
    out.tokenOffset = r.pos;
    out.tokenLength = tokenLength;
    return out;
  }
  if (type === PacketType.Initial) {
    // RFC 9000 §17.2.2
    const tokenLength = r.varint(INVALID);
    out.tokenOffset = r.pos;
    out.tokenLength = tokenLength;
    r.skip(tokenLength);
  }
  const length = r.varint(INVALID);
  if (length > r.remaining) throw new QuicError(INVALID, 'Length exceeds datagram');
  out.length = length;
  out.pnOffset = r.pos;
  out.end = r.pos + length;
  if (length < HP_SAMPLE_OFFSET + HP_SAMPLE_LENGTH) throw new QuicError(INVALID, 'packet too short for header protection sample');
  return out;
}

/**
 * Step 2: after header protection has been removed in place (first byte and packet number bytes), read the
 * packet number length, truncated packet number, key phase, spin and reserved bits.
 * The reserved bits must be checked for zero by the caller only after the payload decrypted successfully
 * (RFC 9000 §17.2, §17.3.1).
 */
export function readPacketNumber(h: PacketHeader): PacketHeader {
  const first = h.buf[h.offset]!;
  h.firstByte = first;
  h.pnLength = (first & 0x03) + 1;
  if (h.pnOffset + h.pnLength > h.end) throw new QuicError(INVALID, 'packet number truncated');
  const r = scratch.reset(h.buf, h.pnOffset, h.end, INVALID);
  h.truncatedPn = r.uint(h.pnLength);
  h.payloadOffset = h.pnOffset + h.pnLength;
  if (h.isLong) {
    h.reservedBits = (first >> 2) & 0x03;
    h.keyPhase = 0;
    h.spinBit = 0;
  } else {
    h.reservedBits = (first >> 3) & 0x03;
    h.keyPhase = (first >> 2) & 0x01;
    h.spinBit = (first >> 5) & 0x01;
  }
  return h;
}

/**
 * Writes a long header for an Initial, 0-RTT or Handshake packet up to and including the truncated packet
 * number. The Length field is written in 2 bytes (`length` may be 0 and patched later with `patchVarint2`
 * once the payload size is known). Returns the offset of the Length field; the packet number follows it.
 */
export function writeLongHeader(
  w: BufferWriter,
  version: number,
  type: PacketType,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array | null,
  pnLength: number,
  truncatedPn: number,
  length: number,
  fixedBit = true,
): number {
  if (type !== PacketType.Initial && type !== PacketType.ZeroRtt && type !== PacketType.Handshake) {
    throw new RangeError(`writeLongHeader: not a packet with a packet number: ${type}`);
  }
  if (pnLength < 1 || pnLength > 4) throw new RangeError(`bad packet number length ${pnLength}`);
  writeLongPrefix(w, version, type, dcid, scid, fixedBit, pnLength - 1);
  if (type === PacketType.Initial) {
    const t = token ?? EMPTY;
    w.varint(t.length);
    w.bytes(t);
  } else if (token !== null && token.length > 0) {
    throw new RangeError('only Initial packets carry a token');
  }
  const lengthOffset = w.pos;
  w.varintFixed(length, 2);
  w.uint(truncatedPn, pnLength);
  return lengthOffset;
}

/** RFC 9000 §17.3.1: the 1-RTT short header up to and including the truncated packet number. */
export function writeShortHeader(
  w: BufferWriter,
  dcid: Uint8Array,
  spinBit: number,
  keyPhase: number,
  pnLength: number,
  truncatedPn: number,
  fixedBit = true,
): void {
  if (pnLength < 1 || pnLength > 4) throw new RangeError(`bad packet number length ${pnLength}`);
  w.u8((fixedBit ? 0x40 : 0) | ((spinBit & 1) << 5) | ((keyPhase & 1) << 2) | (pnLength - 1));
  w.bytes(dcid);
  w.uint(truncatedPn, pnLength);
}

/**
 * RFC 9000 §17.2.5: a Retry packet. `integrityTag` is computed over the pseudo-packet (see
 * `retryPseudoPacket`) by the TLS layer; pass null to write a 16-byte placeholder to fill in later.
 */
export function writeRetry(
  w: BufferWriter,
  version: number,
  dcid: Uint8Array,
  scid: Uint8Array,
  token: Uint8Array,
  integrityTag: Uint8Array | null,
  unusedBits = 0,
): void {
  writeLongPrefix(w, version, PacketType.Retry, dcid, scid, true, unusedBits & 0x0f);
  w.bytes(token);
  if (integrityTag === null) w.fill(0, RETRY_INTEGRITY_TAG_LENGTH);
  else {
    if (integrityTag.length !== RETRY_INTEGRITY_TAG_LENGTH) throw new RangeError('retry integrity tag must be 16 bytes');
    w.bytes(integrityTag);
  }
}

/**
 * RFC 9001 §5.8: the Retry Pseudo-Packet over which the integrity tag is computed: the original DCID with its
 * length, followed by the Retry packet without its tag.
 */
export function retryPseudoPacket(originalDcid: Uint8Array, retryWithoutTag: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + originalDcid.length + retryWithoutTag.length);
  out[0] = originalDcid.length;
  out.set(originalDcid, 1);
  out.set(retryWithoutTag, 1 + originalDcid.length);
  return out;
}

/**
 * RFC 9000 §17.2.1: Version Negotiation. The DCID and SCID echo the client's SCID and DCID. `unusedBits`
 * (7 bits) should be random; 0x40 is set as the RFC recommends for demultiplexing with other protocols.
 */
export function writeVersionNegotiation(
  w: BufferWriter,
  dcid: Uint8Array,
  scid: Uint8Array,
  versions: readonly number[],
  unusedBits = 0,
): void {
  if (versions.length === 0) throw new RangeError('version negotiation needs at least one version');
  if (dcid.length > 255 || scid.length > 255) throw new RangeError('connection ID longer than 255 bytes');
  w.u8(0x80 | 0x40 | (unusedBits & 0x3f));
  w.u32(VERSION_NEGOTIATION);
  w.u8(dcid.length);
  w.bytes(dcid);
  w.u8(scid.length);
  w.bytes(scid);
  for (const v of versions) w.u32(v >>> 0);
}

function writeLongPrefix(
  w: BufferWriter,
  version: number,
  type: PacketType,
  dcid: Uint8Array,
  scid: Uint8Array,
  fixedBit: boolean,
  lowBits: number,
): void {
  if (dcid.length > MAX_CID_LENGTH || scid.length > MAX_CID_LENGTH) throw new RangeError('connection ID longer than 20 bytes');
  w.u8(0x80 | (fixedBit ? 0x40 : 0) | (longTypeBits(version, type) << 4) | lowBits);
  w.u32(version >>> 0);
  w.u8(dcid.length);
  w.bytes(dcid);
  w.u8(scid.length);
  w.bytes(scid);
}

const EMPTY = new Uint8Array(0);

/** Start and end offsets of each packet coalesced in `datagram` (RFC 9000 §12.2). Stops at the first invalid one. */
export function splitCoalesced(datagram: Uint8Array, shortDcidLength: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const h = new PacketHeader();
  let offset = 0;
  while (offset < datagram.length) {
    try {
      parsePacketHeader(datagram, offset, shortDcidLength, h);
    } catch {
      break;
    }
    out.push([offset, h.end]);
    offset = h.end;
  }
  return out;
}
