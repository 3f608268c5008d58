import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbBytes, arbCid, runs, seed } from '@gquic/testkit';
import { QuicError } from './errors.js';
import { fromHex, toHex } from './hex.js';
import {
  PacketHeader,
  parsePacketHeader,
  readPacketNumber,
  retryPseudoPacket,
  splitCoalesced,
  writeLongHeader,
  writeRetry,
  writeShortHeader,
  writeVersionNegotiation,
} from './packet-header.js';
import { PacketType, QUIC_V1, QUIC_V2, greaseVersion, isReservedVersion } from './version.js';
import { BufferWriter, patchVarint2 } from './writer.js';

const CLIENT_DCID = fromHex('8394c8f03e515708');
const SERVER_SCID = fromHex('f067a5502a4262b5');
const EMPTY = new Uint8Array(0);

function longHeaderHex(version: number, type: PacketType, dcid: Uint8Array, scid: Uint8Array, pnLen: number, pn: number, length: number): string {
  const out = new Uint8Array(64);
  const w = new BufferWriter(out);
  writeLongHeader(w, version, type, dcid, scid, EMPTY, pnLen, pn, length);
  return toHex(out.subarray(0, w.pos));
}

/** A datagram: header bytes followed by `payloadLength` filler bytes. */
function withPayload(header: Uint8Array, payloadLength: number): Uint8Array {
  const d = new Uint8Array(header.length + payloadLength);
  d.set(header);
  d.fill(0xaa, header.length);
  return d;
}

describe('long headers: RFC 9001 Appendix A and RFC 9369 Appendix A, byte-exact', () => {
  it('writes the v1 client Initial header (A.2)', () => {
    expect(longHeaderHex(QUIC_V1, PacketType.Initial, CLIENT_DCID, EMPTY, 4, 2, 1182)).toBe('c300000001088394c8f03e5157080000449e00000002');
  });
  it('writes the v1 server Initial header (A.3)', () => {
    expect(longHeaderHex(QUIC_V1, PacketType.Initial, EMPTY, SERVER_SCID, 2, 1, 117)).toBe('c1000000010008f067a5502a4262b50040750001');
  });
  it('writes the v2 client and server Initial headers (RFC 9369 A.2, A.3: Initial type bits 0b01)', () => {
    expect(longHeaderHex(QUIC_V2, PacketType.Initial, CLIENT_DCID, EMPTY, 4, 2, 1182)).toBe('d36b3343cf088394c8f03e5157080000449e00000002');
    expect(longHeaderHex(QUIC_V2, PacketType.Initial, EMPTY, SERVER_SCID, 2, 1, 117)).toBe('d16b3343cf0008f067a5502a4262b50040750001');
  });

  it('parses the protected v1 client Initial in two steps', () => {
    const header = fromHex('c300000001088394c8f03e5157080000449e00000002');
    const datagram = withPayload(header, 1200 - header.length);
    // As received, the first byte and packet number are masked (A.2: c0 ... 7b9aec34).
    datagram.set(fromHex('c0'), 0);
    datagram.set(fromHex('7b9aec34'), 18);
    const h = parsePacketHeader(datagram, 0, 8, new PacketHeader());
    expect(h.isLong).toBe(true);
    expect(h.type).toBe(PacketType.Initial);
    expect(h.version).toBe(QUIC_V1);
    expect(toHex(h.dcid)).toBe('8394c8f03e515708');
    expect(h.scidLength).toBe(0);
    expect(h.tokenLength).toBe(0);
    expect(h.length).toBe(1182);
    expect(h.pnOffset).toBe(18);
    expect(h.end).toBe(1200);
    // Step 2, once header protection is removed.
    datagram[0] = 0xc3;
    datagram.set(fromHex('00000002'), 18);
    readPacketNumber(h);
    expect(h.pnLength).toBe(4);
    expect(h.truncatedPn).toBe(2);
    expect(h.payloadOffset).toBe(22);
    expect(h.reservedBits).toBe(0);
  });

  it('parses a v2 Initial with the v2 type bits', () => {
    const header = fromHex('d16b3343cf0008f067a5502a4262b50040750001');
    const h = parsePacketHeader(withPayload(header, 115), 0, 0, new PacketHeader());
    expect(h.type).toBe(PacketType.Initial);
    expect(h.version).toBe(QUIC_V2);
    expect(toHex(h.scid)).toBe('f067a5502a4262b5');
    readPacketNumber(h);
    expect(h.pnLength).toBe(2);
    expect(h.truncatedPn).toBe(1);
  });
});

describe('Retry (RFC 9000 §17.2.5)', () => {
  const v1 = 'ff000000010008f067a5502a4262b5746f6b656e04a265ba2eff4d829058fb3f0f2496ba';
  const v2 = 'cf6b3343cf0008f067a5502a4262b5746f6b656ec8646ce8bfe33952d955543665dcc7b6';
  it.each([
    ['v1 (RFC 9001 A.4)', v1, QUIC_V1, '04a265ba2eff4d829058fb3f0f2496ba'],
    ['v2 (RFC 9369 A.4)', v2, QUIC_V2, 'c8646ce8bfe33952d955543665dcc7b6'],
  ])('parses and rewrites the %s Retry byte-exact', (_name, hex, version, tag) => {
    const h = parsePacketHeader(fromHex(hex), 0, 0, new PacketHeader());
    expect(h.type).toBe(PacketType.Retry);
    expect(h.version).toBe(version);
    expect(new TextDecoder().decode(h.token)).toBe('token');
    expect(toHex(h.retryIntegrityTag)).toBe(tag);
    const out = new Uint8Array(64);
    const w = new BufferWriter(out);
    writeRetry(w, version, h.dcid, h.scid, h.token, h.retryIntegrityTag, 0x0f);
    expect(toHex(out.subarray(0, w.pos))).toBe(hex);
  });
  it('builds the pseudo-packet of RFC 9001 §5.8', () => {
    const retryWithoutTag = fromHex(v1.slice(0, -32));
    const pseudo = retryPseudoPacket(CLIENT_DCID, retryWithoutTag);
    expect(toHex(pseudo)).toBe('08' + '8394c8f03e515708' + v1.slice(0, -32));
  });
  it('rejects a Retry too short for its integrity tag', () => {
    expect(() => parsePacketHeader(fromHex(v1.slice(0, 40)), 0, 0, new PacketHeader())).toThrow(QuicError);
  });
});

describe('short header (RFC 9000 §17.3.1)', () => {
  it('writes and parses the RFC 9001 A.5 header (empty DCID, 3-byte packet number)', () => {
    const out = new Uint8Array(8);
    const w = new BufferWriter(out);
    writeShortHeader(w, EMPTY, 0, 0, 3, 0x00bff4);
    expect(toHex(out.subarray(0, w.pos))).toBe('4200bff4');
    const protectedPacket = fromHex('4cfe4189655e5cd55c41f69080575d7999c25a5bfb');
    const h = parsePacketHeader(protectedPacket, 0, 0, new PacketHeader());
    expect(h.isLong).toBe(false);
    expect(h.type).toBe(PacketType.OneRtt);
    expect(h.pnOffset).toBe(1);
    expect(h.end).toBe(21);
    protectedPacket.set(fromHex('4200bff4'));
    readPacketNumber(h);
    expect(h.pnLength).toBe(3);
    expect(h.truncatedPn).toBe(0x00bff4);
    expect(h.keyPhase).toBe(0);
  });
  it('carries spin and key phase bits', () => {
    const out = new Uint8Array(40);
    const w = new BufferWriter(out);
    writeShortHeader(w, fromHex('0102030405'), 1, 1, 1, 7);
    w.fill(0, 20);
    const h = readPacketNumber(parsePacketHeader(out, 0, 5, new PacketHeader()));
    expect(h.spinBit).toBe(1);
    expect(h.keyPhase).toBe(1);
    expect(toHex(h.dcid)).toBe('0102030405');
    expect(h.truncatedPn).toBe(7);
  });
  it('drops packets too short for the header protection sample (RFC 9001 §5.4.2)', () => {
    expect(() => parsePacketHeader(fromHex('4cfe4189655e5cd55c41f69080575d7999c25a5b'), 0, 0, new PacketHeader())).toThrow(QuicError);
  });
});

describe('version negotiation (RFC 9000 §17.2.1) and reserved versions', () => {
  it('round-trips a Version Negotiation packet', () => {
    const out = new Uint8Array(64);
    const w = new BufferWriter(out);
    writeVersionNegotiation(w, fromHex('0011'), CLIENT_DCID, [QUIC_V2, QUIC_V1, greaseVersion(0x12345678)], 0x15);
    const h = parsePacketHeader(out.subarray(0, w.pos), 0, 0, new PacketHeader());
    expect(h.type).toBe(PacketType.VersionNegotiation);
    expect(toHex(h.dcid)).toBe('0011');
    expect(toHex(h.scid)).toBe('8394c8f03e515708');
    expect(h.supportedVersions).toEqual([QUIC_V2, QUIC_V1, 0x1a3a5a7a]);
    expect(isReservedVersion(0x1a3a5a7b)).toBe(false);
    expect(isReservedVersion(greaseVersion(0x12345678))).toBe(true);
  });
  it('parses only the invariant fields of an unknown version, with long CIDs (RFC 8999 §5.1)', () => {
    const d = new Uint8Array(1200);
    const w = new BufferWriter(d);
    w.u8(0xc0);
    w.u32(0x1a2a3a4a);
    w.u8(40);
    w.fill(1, 40);
    w.u8(0);
    const h = parsePacketHeader(d, 0, 0, new PacketHeader());
    expect(h.type).toBe(-1);
    expect(h.version).toBe(0x1a2a3a4a);
    expect(h.dcidLength).toBe(40);
  });
  it('rejects v1 connection IDs longer than 20 bytes', () => {
    const d = new Uint8Array(100);
    d.set([0xc0, 0, 0, 0, 1, 21]);
    expect(() => parsePacketHeader(d, 0, 0, new PacketHeader())).toThrow(QuicError);
  });
});

describe('coalesced packets (RFC 9000 §12.2)', () => {
  it('splits Initial + Handshake + 1-RTT in one datagram', () => {
    const d = new Uint8Array(1200);
    const w = new BufferWriter(d);
    const lenAt = writeLongHeader(w, QUIC_V1, PacketType.Initial, CLIENT_DCID, SERVER_SCID, fromHex('abcd'), 2, 0, 0);
    w.fill(0, 100);
    patchVarint2(d, lenAt, w.pos - lenAt - 2);
    const first = w.pos;
    const lenAt2 = writeLongHeader(w, QUIC_V1, PacketType.Handshake, CLIENT_DCID, SERVER_SCID, null, 1, 0, 0);
    w.fill(0, 50);
    patchVarint2(d, lenAt2, w.pos - lenAt2 - 2);
    const second = w.pos;
    writeShortHeader(w, CLIENT_DCID, 0, 0, 1, 0);
    expect(splitCoalesced(d, 8)).toEqual([
      [0, first],
      [first, second],
      [second, 1200],
    ]);
    const h = parsePacketHeader(d, 0, 8, new PacketHeader());
    expect(toHex(h.token)).toBe('abcd');
    expect(parsePacketHeader(d, first, 8, h).type).toBe(PacketType.Handshake);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Properties

interface LongSpec {
  version: number;
  type: PacketType;
  dcid: Uint8Array;
  scid: Uint8Array;
  token: Uint8Array;
  pnLength: number;
  pn: number;
  payloadLength: number;
}

const arbLong: fc.Arbitrary<LongSpec> = fc
  .record({
    version: fc.constantFrom(QUIC_V1, QUIC_V2),
    type: fc.constantFrom(PacketType.Initial, PacketType.ZeroRtt, PacketType.Handshake),
    dcid: arbCid(),
    scid: arbCid(),
    token: arbBytes(0, 80),
    pnLength: fc.integer({ min: 1, max: 4 }),
    pnSeed: fc.nat(),
    payloadLength: fc.integer({ min: 20, max: 1300 }),
  })
  .map(({ pnSeed, ...s }) => ({ ...s, pn: pnSeed % 2 ** (8 * s.pnLength), token: s.type === PacketType.Initial ? s.token : EMPTY }));

function buildLong(s: LongSpec): Uint8Array {
  const d = new Uint8Array(80 + s.token.length + s.payloadLength);
  const w = new BufferWriter(d);
  writeLongHeader(w, s.version, s.type, s.dcid, s.scid, s.token, s.pnLength, s.pn, s.payloadLength - 0 + s.pnLength);
  w.fill(0x5a, s.payloadLength);
  return d.subarray(0, w.pos);
}

describe('header properties', () => {
  it('decode(encode(x)) = x for Initial, 0-RTT and Handshake headers in v1 and v2', () => {
    const h = new PacketHeader();
    fc.assert(
      fc.property(arbLong, (s) => {
        const d = buildLong(s);
        parsePacketHeader(d, 0, 0, h);
        readPacketNumber(h);
        expect([h.version, h.type, h.pnLength, h.truncatedPn, h.end]).toEqual([s.version, s.type, s.pnLength, s.pn, d.length]);
        expect(h.dcid).toEqual(s.dcid);
        expect(h.scid).toEqual(s.scid);
        expect(h.token).toEqual(s.token);
        expect(h.length).toBe(s.payloadLength + s.pnLength);
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });

  it('decode(encode(x)) = x for short headers, Retry and Version Negotiation', () => {
    const h = new PacketHeader();
    const out = new Uint8Array(600);
    const w = new BufferWriter();
    fc.assert(
      fc.property(
        fc.record({ dcid: arbCid(), scid: arbCid(), spin: fc.integer({ min: 0, max: 1 }), kp: fc.integer({ min: 0, max: 1 }), pnLength: fc.integer({ min: 1, max: 4 }), pn: fc.nat() }),
        arbBytes(1, 100),
        arbBytes(16, 16),
        fc.array(fc.integer({ min: 0, max: 0xffff_ffff }), { minLength: 1, maxLength: 10 }),
        fc.constantFrom(QUIC_V1, QUIC_V2),
        (s, token, tag, versions, version) => {
          const pn = s.pn % 2 ** (8 * s.pnLength);
          w.reset(out);
          writeShortHeader(w, s.dcid, s.spin, s.kp, s.pnLength, pn);
          w.fill(0, 20);
          readPacketNumber(parsePacketHeader(out.subarray(0, w.pos), 0, s.dcid.length, h));
          expect([h.spinBit, h.keyPhase, h.pnLength, h.truncatedPn]).toEqual([s.spin, s.kp, s.pnLength, pn]);
          expect(h.dcid).toEqual(s.dcid);

          w.reset(out);
          writeRetry(w, version, s.dcid, s.scid, token, tag);
          parsePacketHeader(out.subarray(0, w.pos), 0, 0, h);
          expect([h.type, h.version]).toEqual([PacketType.Retry, version]);
          expect([h.dcid, h.scid, h.token, h.retryIntegrityTag]).toEqual([s.dcid, s.scid, token, tag]);

          w.reset(out);
          writeVersionNegotiation(w, s.dcid, s.scid, versions);
          parsePacketHeader(out.subarray(0, w.pos), 0, 0, h);
          expect(h.type).toBe(PacketType.VersionNegotiation);
          expect([h.dcid, h.scid, h.supportedVersions]).toEqual([s.dcid, s.scid, versions]);
        },
      ),
      { numRuns: runs(5_000), ...seed() },
    );
  });

  it('every truncation of a packet with a Length field is a typed error', () => {
    // Retry, Version Negotiation and 1-RTT packets extend to the end of the datagram: a cut one is caught by
    // the Retry integrity tag or the AEAD, not by the header.
    const h = new PacketHeader();
    fc.assert(
      fc.property(arbLong, fc.nat(), (s, cut) => {
        const d = buildLong(s);
        expect(() => parsePacketHeader(d.subarray(0, cut % d.length), 0, 0, h)).toThrow(QuicError);
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });

  it('arbitrary bytes either parse or give a QuicError, never another exception', () => {
    const h = new PacketHeader();
    fc.assert(
      fc.property(arbBytes(0, 1400), fc.integer({ min: 0, max: 20 }), (d, dcidLen) => {
        try {
          let off = 0;
          while (off < d.length) {
            parsePacketHeader(d, off, dcidLen, h);
            if (h.pnOffset > 0) readPacketNumber(h);
            if (h.type === PacketType.VersionNegotiation) void h.supportedVersions;
            off = h.end;
          }
        } catch (e) {
          if (!(e instanceof QuicError)) throw e;
        }
      }),
      { numRuns: runs(10_000), ...seed() },
    );
  });
});
