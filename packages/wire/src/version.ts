// QUIC versions (RFC 9000 §15, RFC 9369) and the long-header packet types, whose type bits differ by version.

export const QUIC_V1 = 0x0000_0001;
/** RFC 9369 §3.1 */
export const QUIC_V2 = 0x6b33_43cf;
/** The Version field of a Version Negotiation packet (RFC 9000 §17.2.1). */
export const VERSION_NEGOTIATION = 0;

/** RFC 9000 §15: versions of the form 0x?a?a?a?a are reserved to exercise version negotiation. */
export function isReservedVersion(version: number): boolean {
  return ((version & 0x0f0f_0f0f) >>> 0) === 0x0a0a_0a0a;
}

/** A reserved version to grease with, derived from `seed` (RFC 9000 §15). */
export function greaseVersion(seed: number): number {
  return ((seed & 0xf0f0_f0f0) | 0x0a0a_0a0a) >>> 0;
}

export function isSupportedVersion(version: number): boolean {
  return version === QUIC_V1 || version === QUIC_V2;
}

/**
 * RFC 9368 §2.2: a first flight of version `from` can be converted to version `to`. v1 and v2 are compatible both
 * ways (RFC 9369 §4); every version is compatible with itself.
 */
export function areCompatibleVersions(from: number, to: number): boolean {
  return from === to || (isSupportedVersion(from) && isSupportedVersion(to));
}

/** Packet types, independent of version (the type bits are mapped per version). */
export const PacketType = {
  Initial: 0,
  ZeroRtt: 1,
  Handshake: 2,
  Retry: 3,
  OneRtt: 4,
  VersionNegotiation: 5,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

export const PACKET_TYPE_NAMES: Readonly<Record<PacketType, string>> = {
  0: 'initial',
  1: '0RTT',
  2: 'handshake',
  3: 'retry',
  4: '1RTT',
  5: 'version_negotiation',
};

// RFC 9000 §17.2 (v1: Initial 0, 0-RTT 1, Handshake 2, Retry 3); RFC 9369 §3.2 (v2: Initial 1, 0-RTT 2,
// Handshake 3, Retry 0). Indexed by the two type bits.
const V1_FROM_BITS: readonly PacketType[] = [PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake, PacketType.Retry];
const V2_FROM_BITS: readonly PacketType[] = [PacketType.Retry, PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake];

/** The long-header type bits (0-3) for `type` in `version`. */
export function longTypeBits(version: number, type: PacketType): number {
  if (type > PacketType.Retry) throw new RangeError(`not a long-header packet type: ${type}`);
  return version === QUIC_V2 ? (type + 1) & 3 : type;
}

/** The packet type for long-header type bits in a supported `version`. */
export function longTypeFromBits(version: number, bits: number): PacketType {
  return (version === QUIC_V2 ? V2_FROM_BITS : V1_FROM_BITS)[bits & 3]!;
}
