// RFC 8446 §4: handshake messages and extensions — decoding into plain records and encoding them back.
// Decoding enforces structure (lengths, duplicates, ordering) with decode_error / illegal_parameter alerts;
// the handshake state machines check semantics.

import type { BufferReader } from '@gquic/wire';
import { alert } from './alerts.js';
import { Builder, readOpaque, readVector, tlsReader } from './codec.js';

export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

export const ExtensionType = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  alpn: 16,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  certificate_authorities: 47,
  signature_algorithms_cert: 50,
  key_share: 51,
  quic_transport_parameters: 57,
} as const;

export const NamedGroup = { x25519: 0x001d, secp256r1: 0x0017, secp384r1: 0x0018 } as const;
export const TLS13 = 0x0304;
export const LEGACY_VERSION = 0x0303;
export const PSK_DHE_KE = 1;

/** RFC 8446 §4.1.3: ServerHello.random of a HelloRetryRequest, SHA-256("HelloRetryRequest"). */
export const HRR_RANDOM = Uint8Array.from(Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'));

export interface Extension {
  type: number;
  data: Uint8Array;
}

export interface ClientHello {
  random: Uint8Array;
  legacySessionId: Uint8Array;
  cipherSuites: number[];
  extensions: Extension[];
}

export interface ServerHello {
  random: Uint8Array;
  legacySessionIdEcho: Uint8Array;
  cipherSuite: number;
  extensions: Extension[];
}

export interface CertificateEntry {
  data: Uint8Array;
  extensions: Extension[];
}

export interface CertificateMessage {
  context: Uint8Array;
  entries: CertificateEntry[];
}

export interface CertificateRequest {
  context: Uint8Array;
  extensions: Extension[];
}

export interface NewSessionTicket {
  lifetime: number;
  ageAdd: number;
  nonce: Uint8Array;
  ticket: Uint8Array;
  extensions: Extension[];
}

export interface KeyShareEntry {
  group: number;
  keyExchange: Uint8Array;
}

export interface PskIdentity {
  identity: Uint8Array;
  obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  identities: PskIdentity[];
  binders: Uint8Array[];
}

/** A handshake message with its 4-byte header. */
export function frameMessage(type: number, body: Uint8Array): Uint8Array {
  if (body.length > 0xffffff) throw new RangeError('handshake message too large');
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = body.length >>> 16;
  out[2] = body.length >>> 8;
  out[3] = body.length;
  out.set(body, 4);
  return out;
}

function readExtensions(r: BufferReader, allowEmptyBlock: boolean): Extension[] {
  if (allowEmptyBlock && r.remaining === 0) return [];
  const v = readVector(r, 2);
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (v.remaining > 0) {
    const type = v.u16();
    const data = readOpaque(v, 2);
    // RFC 8446 §4.2: no extension type may appear twice in one block.
    if (seen.has(type)) throw alert('illegal_parameter', `duplicate extension ${type}`);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

function writeExtensions(b: Builder, exts: readonly Extension[]): void {
  b.vector(2, () => {
    for (const e of exts) {
      b.u16(e.type);
      b.vector(2, () => b.bytes(e.data));
    }
  });
}

function done(r: BufferReader, what: string): void {
  if (r.remaining !== 0) throw alert('decode_error', `trailing bytes in ${what}`);
}

export function findExtension(exts: readonly Extension[], type: number): Uint8Array | undefined {
  for (const e of exts) if (e.type === type) return e.data;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// ClientHello / ServerHello (§4.1.2, §4.1.3)

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = tlsReader(body);
  r.u16(); // legacy_version: ignored, supported_versions decides (§4.2.1)
  const random = r.copy(32);
  const legacySessionId = readOpaque(r, 1);
  if (legacySessionId.length > 32) throw alert('decode_error', 'legacy_session_id longer than 32 bytes');
  const suites = readVector(r, 2, 2);
  const cipherSuites: number[] = [];
  if (suites.remaining % 2 !== 0) throw alert('decode_error', 'odd cipher_suites length');
  while (suites.remaining > 0) cipherSuites.push(suites.u16());
  const compression = readOpaque(r, 1, 1);
  // §4.1.2: TLS 1.3 ClientHellos carry exactly one compression method, null.
  if (compression.length !== 1 || compression[0] !== 0) throw alert('illegal_parameter', 'compression methods must be [null]');
  const extensions = readExtensions(r, false);
  done(r, 'ClientHello');
  // §4.2.11: pre_shared_key must be the last extension.
  const pskAt = extensions.findIndex((e) => e.type === ExtensionType.pre_shared_key);
  if (pskAt !== -1 && pskAt !== extensions.length - 1) throw alert('illegal_parameter', 'pre_shared_key is not the last extension');
  return { random, legacySessionId, cipherSuites, extensions };
}

export function encodeClientHello(ch: ClientHello): Uint8Array {
  const b = new Builder();
  b.u16(LEGACY_VERSION).bytes(ch.random);
  b.vector(1, () => b.bytes(ch.legacySessionId));
  b.vector(2, () => ch.cipherSuites.forEach((s) => b.u16(s)));
  b.vector(1, () => b.u8(0));
  writeExtensions(b, ch.extensions);
  return frameMessage(HandshakeType.client_hello, b.finish());
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = tlsReader(body);
  r.u16();
  const random = r.copy(32);
  const legacySessionIdEcho = readOpaque(r, 1);
  const cipherSuite = r.u16();
  if (r.u8() !== 0) throw alert('illegal_parameter', 'ServerHello compression method must be null');
  const extensions = readExtensions(r, false);
  done(r, 'ServerHello');
  return { random, legacySessionIdEcho, cipherSuite, extensions };
}

export function encodeServerHello(sh: ServerHello): Uint8Array {
  const b = new Builder();
  b.u16(LEGACY_VERSION).bytes(sh.random);
  b.vector(1, () => b.bytes(sh.legacySessionIdEcho));
  b.u16(sh.cipherSuite).u8(0);
  writeExtensions(b, sh.extensions);
  return frameMessage(HandshakeType.server_hello, b.finish());
}

export function isHelloRetryRequest(sh: ServerHello): boolean {
  return sh.random.length === 32 && sh.random.every((x, i) => x === HRR_RANDOM[i]);
}

// ---------------------------------------------------------------------------------------------------------
// EncryptedExtensions, Certificate, CertificateRequest, CertificateVerify, Finished, NewSessionTicket

export function decodeEncryptedExtensions(body: Uint8Array): Extension[] {
  const r = tlsReader(body);
  const exts = readExtensions(r, false);
  done(r, 'EncryptedExtensions');
  return exts;
}

export function encodeEncryptedExtensions(exts: readonly Extension[]): Uint8Array {
  const b = new Builder();
  writeExtensions(b, exts);
  return frameMessage(HandshakeType.encrypted_extensions, b.finish());
}

export function decodeCertificate(body: Uint8Array): CertificateMessage {
  const r = tlsReader(body);
  const context = readOpaque(r, 1);
  const list = readVector(r, 3);
  const entries: CertificateEntry[] = [];
  while (list.remaining > 0) {
    const data = readOpaque(list, 3, 1);
    entries.push({ data, extensions: readExtensions(list, false) });
  }
  done(r, 'Certificate');
  return { context, entries };
}

export function encodeCertificate(msg: CertificateMessage): Uint8Array {
  const b = new Builder();
  b.vector(1, () => b.bytes(msg.context));
  b.vector(3, () => {
    for (const e of msg.entries) {
      b.vector(3, () => b.bytes(e.data));
      writeExtensions(b, e.extensions);
    }
  });
  return frameMessage(HandshakeType.certificate, b.finish());
}

export function decodeCertificateRequest(body: Uint8Array): CertificateRequest {
  const r = tlsReader(body);
  const context = readOpaque(r, 1);
  const extensions = readExtensions(r, false);
  done(r, 'CertificateRequest');
  return { context, extensions };
}

export function encodeCertificateRequest(cr: CertificateRequest): Uint8Array {
  const b = new Builder();
  b.vector(1, () => b.bytes(cr.context));
  writeExtensions(b, cr.extensions);
  return frameMessage(HandshakeType.certificate_request, b.finish());
}

export function decodeCertificateVerify(body: Uint8Array): { scheme: number; signature: Uint8Array } {
  const r = tlsReader(body);
  const scheme = r.u16();
  const signature = readOpaque(r, 2, 1);
  done(r, 'CertificateVerify');
  return { scheme, signature };
}

export function encodeCertificateVerify(scheme: number, signature: Uint8Array): Uint8Array {
  const b = new Builder();
  b.u16(scheme).vector(2, () => b.bytes(signature));
  return frameMessage(HandshakeType.certificate_verify, b.finish());
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = tlsReader(body);
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const nonce = readOpaque(r, 1);
  const ticket = readOpaque(r, 2, 1);
  const extensions = readExtensions(r, false);
  done(r, 'NewSessionTicket');
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

export function encodeNewSessionTicket(t: NewSessionTicket): Uint8Array {
  const b = new Builder();
  b.u32(t.lifetime).u32(t.ageAdd);
  b.vector(1, () => b.bytes(t.nonce));
  b.vector(2, () => b.bytes(t.ticket));
  writeExtensions(b, t.extensions);
  return frameMessage(HandshakeType.new_session_ticket, b.finish());
}

// ---------------------------------------------------------------------------------------------------------
// Extension bodies (§4.2)

function u16List(data: Uint8Array, lengthBytes: 1 | 2, what: string): number[] {
  const r = tlsReader(data);
  const v = readVector(r, lengthBytes, 2);
  done(r, what);
  if (v.remaining % 2 !== 0) throw alert('decode_error', `odd ${what} length`);
  const out: number[] = [];
  while (v.remaining > 0) out.push(v.u16());
  return out;
}

function u16ListBytes(values: readonly number[], lengthBytes: 1 | 2): Uint8Array {
  const b = new Builder();
  b.vector(lengthBytes, () => values.forEach((v) => b.u16(v)));
  return b.finish();
}

export const ext = {
  supportedGroups: {
    decode: (d: Uint8Array): number[] => u16List(d, 2, 'supported_groups'),
    encode: (groups: readonly number[]): Extension => ({ type: ExtensionType.supported_groups, data: u16ListBytes(groups, 2) }),
  },
  signatureAlgorithms: {
    decode: (d: Uint8Array): number[] => u16List(d, 2, 'signature_algorithms'),
    encode: (schemes: readonly number[], type: number = ExtensionType.signature_algorithms): Extension => ({ type, data: u16ListBytes(schemes, 2) }),
  },
  /** Client: the list of versions; server: the selected one. */
  supportedVersions: {
    decodeClient: (d: Uint8Array): number[] => {
      const r = tlsReader(d);
      const v = readVector(r, 1, 2);
      done(r, 'supported_versions');
      const out: number[] = [];
      if (v.remaining % 2 !== 0) throw alert('decode_error', 'odd supported_versions length');
      while (v.remaining > 0) out.push(v.u16());
      return out;
    },
    encodeClient: (versions: readonly number[]): Extension => {
      const b = new Builder();
      b.vector(1, () => versions.forEach((v) => b.u16(v)));
      return { type: ExtensionType.supported_versions, data: b.finish() };
    },
    decodeServer: (d: Uint8Array): number => {
      const r = tlsReader(d);
      const v = r.u16();
      done(r, 'supported_versions');
      return v;
    },
    encodeServer: (version: number): Extension => ({ type: ExtensionType.supported_versions, data: new Builder().u16(version).finish() }),
  },
  alpn: {
    decode: (d: Uint8Array): string[] => {
      const r = tlsReader(d);
      const v = readVector(r, 2, 2);
      done(r, 'application_layer_protocol_negotiation');
      const out: string[] = [];
      while (v.remaining > 0) out.push(new TextDecoder().decode(readOpaque(v, 1, 1)));
      return out;
    },
    encode: (protocols: readonly string[]): Extension => {
      const b = new Builder();
      b.vector(2, () => protocols.forEach((p) => b.vector(1, () => b.bytes(new TextEncoder().encode(p)))));
      return { type: ExtensionType.alpn, data: b.finish() };
    },
  },
  serverName: {
    /** RFC 6066 §3: the host_name entry, or undefined. */
    decode: (d: Uint8Array): string | undefined => {
      const r = tlsReader(d);
      const v = readVector(r, 2, 1);
      done(r, 'server_name');
      let name: string | undefined;
      while (v.remaining > 0) {
        const type = v.u8();
        const n = readOpaque(v, 2, 1);
        if (type === 0) {
          if (name !== undefined) throw alert('illegal_parameter', 'two host names in server_name');
          name = new TextDecoder().decode(n);
        }
      }
      return name;
    },
    encode: (host: string): Extension => {
      const b = new Builder();
      b.vector(2, () => b.u8(0).vector(2, () => b.bytes(new TextEncoder().encode(host))));
      return { type: ExtensionType.server_name, data: b.finish() };
    },
  },
  keyShare: {
    decodeClient: (d: Uint8Array): KeyShareEntry[] => {
      const r = tlsReader(d);
      const v = readVector(r, 2);
      done(r, 'key_share');
      const out: KeyShareEntry[] = [];
      while (v.remaining > 0) {
        const group = v.u16();
        const keyExchange = readOpaque(v, 2, 1);
        // §4.2.8: each group at most once.
        if (out.some((e) => e.group === group)) throw alert('illegal_parameter', 'duplicate key share group');
        out.push({ group, keyExchange });
      }
      return out;
    },
    encodeClient: (entries: readonly KeyShareEntry[]): Extension => {
      const b = new Builder();
      b.vector(2, () => entries.forEach((e) => b.u16(e.group).vector(2, () => b.bytes(e.keyExchange))));
      return { type: ExtensionType.key_share, data: b.finish() };
    },
    decodeServer: (d: Uint8Array): KeyShareEntry => {
      const r = tlsReader(d);
      const group = r.u16();
      const keyExchange = readOpaque(r, 2, 1);
      done(r, 'key_share');
      return { group, keyExchange };
    },
    encodeServer: (e: KeyShareEntry): Extension => ({
      type: ExtensionType.key_share,
      data: new Builder().u16(e.group).vector(2, (b) => b.bytes(e.keyExchange)).finish(),
    }),
    /** HelloRetryRequest: only the selected group. */
    decodeHrr: (d: Uint8Array): number => {
      const r = tlsReader(d);
      const g = r.u16();
      done(r, 'key_share');
      return g;
    },
    encodeHrr: (group: number): Extension => ({ type: ExtensionType.key_share, data: new Builder().u16(group).finish() }),
  },
  pskModes: {
    decode: (d: Uint8Array): number[] => {
      const r = tlsReader(d);
      const v = readOpaque(r, 1, 1);
      done(r, 'psk_key_exchange_modes');
      return [...v];
    },
    encode: (modes: readonly number[]): Extension => ({
      type: ExtensionType.psk_key_exchange_modes,
      data: new Builder().vector(1, (b) => modes.forEach((m) => b.u8(m))).finish(),
    }),
  },
  preSharedKey: {
    decodeClient: (d: Uint8Array): OfferedPsks => {
      const r = tlsReader(d);
      const ids = readVector(r, 2, 7);
      const identities: PskIdentity[] = [];
      while (ids.remaining > 0) identities.push({ identity: readOpaque(ids, 2, 1), obfuscatedTicketAge: ids.u32() });
      const bs = readVector(r, 2, 33);
      const binders: Uint8Array[] = [];
      while (bs.remaining > 0) binders.push(readOpaque(bs, 1, 32));
      done(r, 'pre_shared_key');
      if (binders.length !== identities.length) throw alert('illegal_parameter', 'PSK binder count differs from identity count');
      return { identities, binders };
    },
    /** Encodes identities and binders (binders may be zero-filled placeholders to compute the real ones). */
    encodeClient: (psks: OfferedPsks): Extension => {
      const b = new Builder();
      b.vector(2, () => psks.identities.forEach((i) => b.vector(2, () => b.bytes(i.identity)).u32(i.obfuscatedTicketAge)));
      b.vector(2, () => psks.binders.forEach((x) => b.vector(1, () => b.bytes(x))));
      return { type: ExtensionType.pre_shared_key, data: b.finish() };
    },
    /** Length of the binders list as encoded (2-byte length + each 1-byte length + binder). */
    bindersLength: (binders: readonly Uint8Array[]): number => 2 + binders.reduce((n, x) => n + 1 + x.length, 0),
    decodeServer: (d: Uint8Array): number => {
      const r = tlsReader(d);
      const i = r.u16();
      done(r, 'pre_shared_key');
      return i;
    },
    encodeServer: (index: number): Extension => ({ type: ExtensionType.pre_shared_key, data: new Builder().u16(index).finish() }),
  },
  earlyData: {
    /** ClientHello and EncryptedExtensions: empty. */
    empty: (): Extension => ({ type: ExtensionType.early_data, data: new Uint8Array(0) }),
    /** NewSessionTicket: max_early_data_size. */
    decodeTicket: (d: Uint8Array): number => {
      const r = tlsReader(d);
      const n = r.u32();
      done(r, 'early_data');
      return n;
    },
    encodeTicket: (max: number): Extension => ({ type: ExtensionType.early_data, data: new Builder().u32(max).finish() }),
  },
  cookie: {
    decode: (d: Uint8Array): Uint8Array => {
      const r = tlsReader(d);
      const c = readOpaque(r, 2, 1);
      done(r, 'cookie');
      return c;
    },
    encode: (cookie: Uint8Array): Extension => ({ type: ExtensionType.cookie, data: new Builder().vector(2, (b) => b.bytes(cookie)).finish() }),
  },
};
