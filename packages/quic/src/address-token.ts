// Address validation tokens (RFC 9000 §8.1): Retry tokens and NEW_TOKEN tokens, sealed with AES-256-GCM under an
// endpoint key, bound to the client's address and a timestamp, with an expiry. A server can check them without
// keeping any state.

import type { CryptoProvider } from '@gquic/crypto';

export const TOKEN_RETRY = 0;
export const TOKEN_NEW = 1;

export interface AddressToken {
  kind: typeof TOKEN_RETRY | typeof TOKEN_NEW;
  /** Wall-clock µs when issued. */
  issuedAt: number;
  /** Retry: the client's original DCID and the Retry's SCID (RFC 9000 §7.3 needs both later). */
  originalDcid: Uint8Array;
  retryScid: Uint8Array;
}

/** Retry tokens are short-lived; NEW_TOKEN tokens are for the next connection, later. */
export const RETRY_TOKEN_LIFETIME_US = 10_000_000;
export const NEW_TOKEN_LIFETIME_US = 24 * 3600 * 1_000_000;

const NONCE = 12;

export class TokenSealer {
  constructor(
    private readonly provider: CryptoProvider,
    private readonly key: Uint8Array,
  ) {}

  /**
   * Retry tokens bind the client's address and port (the path the Retry answered); NEW_TOKEN tokens only the IP
   * address, since the client's port usually changes between connections (§8.1.3). Both bind the QUIC version of
   * the Initial they answered (RFC 9369 §5: tokens are version-specific; a client must not switch versions
   * after a Retry).
   */
  private aad(kind: number, address: { address: string; port: number }, version: number): Uint8Array {
    return new TextEncoder().encode(`${version >>> 0}|${kind === TOKEN_RETRY ? `${address.address}|${address.port}` : address.address}`);
  }

  seal(t: AddressToken, address: { address: string; port: number }, version: number): Uint8Array {
    const body = new Uint8Array(1 + 8 + 1 + t.originalDcid.length + 1 + t.retryScid.length);
    const dv = new DataView(body.buffer);
    body[0] = t.kind;
    dv.setFloat64(1, t.issuedAt);
    body[9] = t.originalDcid.length;
    body.set(t.originalDcid, 10);
    body[10 + t.originalDcid.length] = t.retryScid.length;
    body.set(t.retryScid, 11 + t.originalDcid.length);
    // [kind][nonce][sealed body]: the kind is readable (so a bad Retry token can be told from a bad NEW_TOKEN
    // one, §8.1.3) and authenticated as AAD with the address.
    const out = new Uint8Array(1 + NONCE + body.length + 16);
    out[0] = t.kind;
    const nonce = this.provider.randomBytes(NONCE);
    out.set(nonce, 1);
    out.set(body, 1 + NONCE);
    this.provider.aead('aes-256-gcm', this.key).seal(nonce, this.aad(t.kind, address, version), out, 1 + NONCE, body.length);
    return out;
  }

  /** The kind a token claims to be (unauthenticated until opened), or -1. */
  static kindOf(token: Uint8Array): number {
    return token.length > 0 && (token[0] === TOKEN_RETRY || token[0] === TOKEN_NEW) ? token[0] : -1;
  }

  /** The token's contents if it is ours, of `kind`, for this address and not expired; undefined otherwise. */
  open(token: Uint8Array, kind: number, address: { address: string; port: number }, now: number, version: number): AddressToken | undefined {
    if (token.length < 1 + NONCE + 11 + 16 || token[0] !== kind) return undefined;
    const buf = token.slice(1 + NONCE);
    if (!this.provider.aead('aes-256-gcm', this.key).open(token.subarray(1, 1 + NONCE), this.aad(kind, address, version), buf, 0, buf.length)) return undefined;
    const dv = new DataView(buf.buffer);
    if (buf[0] !== kind) return undefined;
    const issuedAt = dv.getFloat64(1);
    const odLen = buf[9]!;
    if (10 + odLen + 1 > buf.length - 16) return undefined;
    const originalDcid = buf.slice(10, 10 + odLen);
    const rsLen = buf[10 + odLen]!;
    if (11 + odLen + rsLen > buf.length - 16) return undefined;
    const retryScid = buf.slice(11 + odLen, 11 + odLen + rsLen);
    const lifetime = kind === TOKEN_RETRY ? RETRY_TOKEN_LIFETIME_US : NEW_TOKEN_LIFETIME_US;
    if (now < issuedAt - 1_000_000 || now - issuedAt > lifetime) return undefined;
    return { kind: kind as AddressToken['kind'], issuedAt, originalDcid, retryScid };
  }
}
