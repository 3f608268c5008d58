// RFC 9000 §10.3: stateless reset. Tokens are derived from a static key per connection ID (HMAC-SHA256,
// truncated to 16 bytes, §10.3.2), so an endpoint that lost its state can still prove it issued the CID.
// Resets are sent for short-header packets with an unknown DCID: always smaller than the triggering packet
// (no loops between two endpoints, §10.3.3), never below the 21-byte minimum, and at a bounded rate.

import type { CryptoProvider } from '@gquic/crypto';

export const STATELESS_RESET_TOKEN_LENGTH = 16;
/** §10.3: 5 bytes that look like a short header (38+ unpredictable bits) and the token. */
export const MIN_STATELESS_RESET = 21;
/** Resets per second an endpoint sends at most (a token bucket of this size). */
export const STATELESS_RESET_RATE = 100;

export function statelessResetToken(provider: CryptoProvider, key: Uint8Array, cid: Uint8Array): Uint8Array {
  return provider.hmac('sha256', key, cid).subarray(0, STATELESS_RESET_TOKEN_LENGTH);
}

/** Builds a reset answering a `triggerLength`-byte packet, or undefined when none may be sent. */
export function buildStatelessReset(provider: CryptoProvider, token: Uint8Array, triggerLength: number): Uint8Array | undefined {
  // §10.3.3: smaller than the trigger; and not more than needed to look like an ordinary short packet.
  const size = Math.min(triggerLength - 1, 43);
  if (size < MIN_STATELESS_RESET) return undefined;
  const out = provider.randomBytes(size);
  out[0] = (out[0]! & 0x3f) | 0x40; // short header form, fixed bit set
  out.set(token, size - STATELESS_RESET_TOKEN_LENGTH);
  return out;
}

/** A token bucket on virtual time (µs). */
export class RateLimiter {
  private tokens: number;
  private last = 0;

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) * this.perSecond) / 1e6);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
