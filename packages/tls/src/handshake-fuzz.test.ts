// Robustness of the handshake against hostile bytes: whatever arrives, the client and server either wait for
// more data or fail with a typed QuicError (a TLS alert as CRYPTO_ERROR, PROTOCOL_VIOLATION, or
// CRYPTO_BUFFER_EXCEEDED), and a tampered handshake never completes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { QuicError, TransportErrorCode } from '@gquic/wire';
import { createTestPki, runHandshake, runs, seed, type Delivery } from '@gquic/testkit';
import { TlsClient } from './client.js';
import type { EncryptionLevel } from './config.js';
import { HandshakeType, frameMessage } from './messages.js';
import { TlsServer } from './server.js';
import { AntiReplay, TicketKeyRing, type ClientSession } from './session-ticket.js';

const NOW = Date.UTC(2026, 10, 24, 12);
const provider = nodeProvider;
const pki = createTestPki(provider, NOW);
const leaf = pki.leaf('P-256');
const clientLeaf = pki.leaf('Ed25519', { names: ['agent'] });
const ticketKeys = new TicketKeyRing(provider);

type Variant = 'full' | 'mtls' | 'hrr' | 'resume';

function pair(variant: Variant, session?: ClientSession): { client: TlsClient; server: TlsServer } {
  const client = new TlsClient({
    provider,
    alpn: ['h3'],
    transportParameters: Uint8Array.of(1, 1, 0),
    serverName: 'localhost',
    ca: pki.roots,
    ...(variant === 'mtls' ? { certificateChain: clientLeaf.chain, privateKey: clientLeaf.key } : {}),
    ...(variant === 'hrr' ? { keyShareGroups: ['x25519' as const] } : {}),
    ...(variant === 'resume' && session !== undefined ? { session, earlyData: true } : {}),
  });
  const server = new TlsServer({
    provider,
    alpn: ['h3'],
    transportParameters: Uint8Array.of(2, 1, 0),
    certificateChain: leaf.chain,
    privateKey: leaf.key,
    ticketKeys,
    antiReplay: new AntiReplay(),
    earlyData: true,
    ...(variant === 'mtls' ? { clientAuth: 'require' as const, clientCa: pki.roots } : {}),
    ...(variant === 'hrr' ? { groups: ['secp256r1' as const] } : {}),
  });
  return { client, server };
}

const session = ((): ClientSession => {
  const { client, server } = pair('full');
  const r = runHandshake(client, server, NOW);
  const t = r.client.events.find((e) => e.type === 'session-ticket');
  if (t?.type !== 'session-ticket') throw new Error('no ticket');
  return t.session;
})();

/** Every error must be one of the transport's typed errors. */
function expectTyped(e: Error | undefined): void {
  if (e === undefined) return;
  if (!(e instanceof QuicError)) throw e;
  const ok = (e.code >= 0x100 && e.code <= 0x1ff) || e.code === TransportErrorCode.PROTOCOL_VIOLATION || e.code === TransportErrorCode.CRYPTO_BUFFER_EXCEEDED;
  expect(ok, `unexpected error code 0x${e.code.toString(16)}: ${e.message}`).toBe(true);
}

type Mutation =
  | { kind: 'flip'; at: number; xor: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'replace'; bytes: Uint8Array }
  | { kind: 'swap' };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), xor: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('replace' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 300 }) }),
  fc.record({ kind: fc.constant('swap' as const) }),
);

function mutate(m: Mutation, d: Delivery, next: Delivery | undefined): Delivery[] {
  const data = d.data;
  switch (m.kind) {
    case 'flip': {
      const out = data.slice();
      out[Math.floor(m.at * out.length)]! ^= m.xor;
      return [{ ...d, data: out }];
    }
    case 'truncate':
      return [{ ...d, data: data.subarray(0, Math.floor(m.keep * data.length)) }];
    case 'insert': {
      const at = Math.floor(m.at * data.length);
      const out = new Uint8Array(data.length + m.bytes.length);
      out.set(data.subarray(0, at));
      out.set(m.bytes, at);
      out.set(data.subarray(at), at + m.bytes.length);
      return [{ ...d, data: out }];
    }
    case 'replace':
      return [{ ...d, data: m.bytes }];
    case 'swap':
      // Two messages of one flight in the wrong order: the second's bytes at the first's offset.
      if (next === undefined || next.to !== d.to || next.level !== d.level) return [{ ...d, data: data.map((b) => b ^ 0xff) }];
      return [{ ...d, data: next.data }];
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

describe('handshake robustness (fast-check)', () => {
  // The deliveries of an untampered run per variant, so a mutation can target each one.
  const baseline = new Map<Variant, Delivery[]>();
  for (const v of ['full', 'mtls', 'hrr', 'resume'] as Variant[]) {
    const list: Delivery[] = [];
    const { client, server } = pair(v, session);
    const r = runHandshake(client, server, NOW, { tamper: (_, d) => (list.push(d), [d]) });
    expect(r.done).toBe(true);
    baseline.set(v, list);
  }

  it('mutated, truncated, inserted, replaced and swapped handshake bytes end in a typed error or a wait, never in completion', () => {
    fc.assert(
      fc.property(fc.constantFrom<Variant>('full', 'mtls', 'hrr', 'resume'), fc.nat(), mutationArb, (variant, pick, m) => {
        const deliveries = baseline.get(variant)!;
        const target = pick % deliveries.length;
        const { client, server } = pair(variant, session);
        let original: Delivery | undefined;
        let changed = false;
        const r = runHandshake(client, server, NOW, {
          unreadable: 'drop',
          tamper: (n, d) => {
            if (n !== target) return [d];
            original = d;
            const out = mutate(m, d, deliveries[n + 1]);
            changed = out.length !== 1 || !sameBytes(out[0]!.data, d.data);
            return out;
          },
        });
        expectTyped(r.client.error);
        expectTyped(r.server.error);
        // Everything before the tickets is covered by the transcript (and Finished): tampering must not complete.
        if (changed && original !== undefined && original.level !== 'application') expect(r.done).toBe(false);
      }),
      { numRuns: runs(1500), ...seed() },
    );
  });

  it('handshake bytes split at random and delivered in any order still complete with matching keys', () => {
    fc.assert(
      fc.property(fc.constantFrom<Variant>('full', 'mtls', 'hrr', 'resume'), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 20 }), fc.nat(), (variant, cuts, shuffleSeed) => {
        const { client, server } = pair(variant, session);
        let s = shuffleSeed;
        const r = runHandshake(client, server, NOW, {
          split: (data) => {
            const pieces: Array<{ offset: number; data: Uint8Array }> = [];
            for (let at = 0, i = 0; at < data.length; i++) {
              const n = cuts[i % cuts.length]!;
              pieces.push({ offset: at, data: data.subarray(at, at + n) });
              at += n;
            }
            return pieces;
          },
          reorder: <T>(pieces: T[]): T[] => {
            const out = pieces.slice();
            for (let i = out.length - 1; i > 0; i--) {
              s = (s * 1103515245 + 12345) >>> 0;
              const j = s % (i + 1);
              [out[i], out[j]] = [out[j]!, out[i]!];
            }
            return out;
          },
        });
        expect(r.done).toBe(true);
        expect(r.client.secrets.get('write:application')).toEqual(r.server.secrets.get('read:application'));
      }),
      { numRuns: runs(200), ...seed() },
    );
  });

  it('random messages of every handshake type at every level, to a fresh client and server, fail typed', () => {
    const types = Object.values(HandshakeType);
    const levels: EncryptionLevel[] = ['initial', 'early', 'handshake', 'application'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ type: fc.oneof(fc.constantFrom(...types), fc.integer({ min: 0, max: 255 })), body: fc.uint8Array({ maxLength: 200 }), level: fc.constantFrom(...levels) }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (msgs, toServer) => {
          const { client, server } = pair('full');
          const target = toServer ? server : client;
          if (!toServer) {
            client.start(NOW);
            while (client.pollEvent() !== undefined);
          }
          const offsets = new Map<EncryptionLevel, number>();
          for (const m of msgs) {
            const bytes = frameMessage(m.type, m.body);
            const off = offsets.get(m.level) ?? 0;
            offsets.set(m.level, off + bytes.length);
            try {
              target.handleCryptoData(m.level, off, bytes, NOW);
            } catch (e) {
              expectTyped(e as Error);
              return;
            }
          }
        },
      ),
      { numRuns: runs(3000), ...seed() },
    );
  });
});
