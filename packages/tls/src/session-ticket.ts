// Stateless session tickets (RFC 8446 §4.6.1) sealed under rotating server keys, the client's stored
// session, and 0-RTT anti-replay (RFC 8446 §8): each ticket's early data is accepted at most once.

import type { CryptoProvider } from '@gquic/crypto';
import { Builder, readOpaque, tlsReader } from './codec.js';

/** What a client keeps to resume a session with a server (including what RFC 9000 §7.4.1 requires). */
export interface ClientSession {
  serverName: string;
  alpn: string;
  cipherSuite: number;
  ticket: Uint8Array;
  /** The PSK this ticket stands for. */
  psk: Uint8Array;
  ageAdd: number;
  /** Seconds. */
  lifetime: number;
  /** Wall-clock milliseconds when the ticket arrived. */
  receivedAt: number;
  /** 0 when the server does not allow early data with this ticket. */
  maxEarlyData: number;
  /** The server's transport parameters of the original connection (RFC 9000 §7.4.1). */
  transportParameters: Uint8Array;
}

/** What a server seals into a ticket. */
export interface TicketState {
  cipherSuite: number;
  psk: Uint8Array;
  /** Wall-clock milliseconds. */
  issuedAt: number;
  ageAdd: number;
  lifetime: number;
  alpn: string;
  maxEarlyData: number;
  /** Random, unique per ticket: the anti-replay key. */
  id: Uint8Array;
  /** Application data the server wants back (e.g. its transport parameters, for 0-RTT compatibility). */
  appData: Uint8Array;
}

const KEY_ID_LENGTH = 4;
const NONCE_LENGTH = 12;

/**
 * The server's ticket keys: a current AES-256-GCM key and the previous one, rotated every `rotationMs`.
 * Tickets sealed under a key two rotations old no longer open (they fall back to a full handshake).
 */
export class TicketKeyRing {
  private keys: Array<{ id: Uint8Array; key: Uint8Array; createdAt: number }> = [];

  constructor(
    private readonly provider: CryptoProvider,
    readonly rotationMs = 12 * 3600_000,
  ) {}

  private current(now: number): { id: Uint8Array; key: Uint8Array } {
    const k = this.keys[0];
    if (k !== undefined && now - k.createdAt < this.rotationMs) return k;
    const fresh = { id: this.provider.randomBytes(KEY_ID_LENGTH), key: this.provider.randomBytes(32), createdAt: now };
    this.keys = [fresh, ...this.keys.slice(0, 1)];
    return fresh;
  }

  seal(state: TicketState, now: number): Uint8Array {
    const k = this.current(now);
    const b = new Builder();
    b.u16(state.cipherSuite).vector(1, () => b.bytes(state.psk));
    b.u32(Math.floor(state.issuedAt / 0x1_0000_0000)).u32(state.issuedAt >>> 0);
    b.u32(state.ageAdd).u32(state.lifetime).u32(state.maxEarlyData);
    b.vector(1, () => b.bytes(new TextEncoder().encode(state.alpn)));
    b.vector(1, () => b.bytes(state.id));
    b.vector(2, () => b.bytes(state.appData));
    const plaintext = b.finish();
    const out = new Uint8Array(KEY_ID_LENGTH + NONCE_LENGTH + plaintext.length + 16);
    out.set(k.id);
    const nonce = this.provider.randomBytes(NONCE_LENGTH);
    out.set(nonce, KEY_ID_LENGTH);
    out.set(plaintext, KEY_ID_LENGTH + NONCE_LENGTH);
    this.provider.aead('aes-256-gcm', k.key).seal(nonce, k.id, out, KEY_ID_LENGTH + NONCE_LENGTH, plaintext.length);
    return out;
  }

  /** The ticket's state, or undefined when it is not ours, too old a key, or tampered with. */
  open(ticket: Uint8Array, now: number): TicketState | undefined {
    this.current(now);
    if (ticket.length < KEY_ID_LENGTH + NONCE_LENGTH + 16) return undefined;
    const id = ticket.subarray(0, KEY_ID_LENGTH);
    const k = this.keys.find((x) => x.id.every((b, i) => b === id[i]));
    if (k === undefined) return undefined;
    const buf = ticket.slice(KEY_ID_LENGTH + NONCE_LENGTH);
    if (!this.provider.aead('aes-256-gcm', k.key).open(ticket.subarray(KEY_ID_LENGTH, KEY_ID_LENGTH + NONCE_LENGTH), id, buf, 0, buf.length)) return undefined;
    try {
      const r = tlsReader(buf, 0, buf.length - 16);
      const cipherSuite = r.u16();
      const psk = readOpaque(r, 1);
      const issuedAt = r.u32() * 0x1_0000_0000 + r.u32();
      const ageAdd = r.u32();
      const lifetime = r.u32();
      const maxEarlyData = r.u32();
      const alpn = new TextDecoder().decode(readOpaque(r, 1));
      const tid = readOpaque(r, 1);
      const appData = readOpaque(r, 2);
      return { cipherSuite, psk, issuedAt, ageAdd, lifetime, alpn, maxEarlyData, id: tid, appData };
    } catch {
      return undefined;
    }
  }
}

/**
 * RFC 8446 §8.1-8.2: single-use tickets for 0-RTT within a freshness window. Remembers the ids of tickets
 * whose early data was accepted until they could no longer pass the freshness check; bounded: when full it
 * refuses early data rather than forget.
 */
export class AntiReplay {
  private used = new Map<string, number>();

  constructor(
    /** How far the client's ticket age may be from ours (ms). */
    readonly windowMs = 10_000,
    readonly maxEntries = 100_000,
  ) {}

  /** True the first time a ticket's early data is presented within the window; false afterwards. */
  accept(state: TicketState, clientTicketAgeMs: number, now: number): boolean {
    const serverAge = now - state.issuedAt;
    if (Math.abs(serverAge - clientTicketAgeMs) > this.windowMs) return false;
    for (const [k, expiry] of this.used) {
      if (expiry > now) break;
      this.used.delete(k);
    }
    const key = Buffer.from(state.id).toString('hex');
    if (this.used.has(key)) return false;
    if (this.used.size >= this.maxEntries) return false;
    // Once the ticket is older than its lifetime plus the window it fails the freshness check anyway.
    this.used.set(key, state.issuedAt + state.lifetime * 1000 + this.windowMs);
    return true;
  }
}
