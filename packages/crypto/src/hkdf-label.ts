// RFC 8446 §7.1: HKDF-Expand-Label, used by TLS and by QUIC packet protection (RFC 9001 §5.1).

import type { CryptoProvider, HashName } from './provider.js';

const encoder = new TextEncoder();

/** The HkdfLabel structure: length, "tls13 " + label, context. */
export function hkdfLabel(label: string, context: Uint8Array, length: number): Uint8Array {
  const l = encoder.encode(`tls13 ${label}`);
  if (l.length > 255 || context.length > 255) throw new RangeError('HKDF label or context too long');
  const out = new Uint8Array(2 + 1 + l.length + 1 + context.length);
  out[0] = length >>> 8;
  out[1] = length & 0xff;
  out[2] = l.length;
  out.set(l, 3);
  out[3 + l.length] = context.length;
  out.set(context, 4 + l.length);
  return out;
}

export function hkdfExpandLabel(p: CryptoProvider, alg: HashName, secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
  return p.hkdfExpand(alg, secret, hkdfLabel(label, context, length), length);
}
