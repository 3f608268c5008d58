import { describe, expect, it } from 'vitest';
import { CIPHER_SUITES, nobleProvider, nodeProvider, type CryptoProvider, type NamedGroupName } from '@gquic/crypto';
import { QuicError, TransportErrorCode, cryptoError } from '@gquic/wire';
import { LEAF_KEY_TYPES, createTestPki, runHandshake, type LeafKeyType, type PairResult, type SideLog } from '@gquic/testkit';
import { AlertDescription } from './alerts.js';
import { TlsClient } from './client.js';
import type { TlsClientConfig, TlsEvent, TlsServerConfig } from './config.js';
import { HRR_RANDOM, HandshakeType, decodeClientHello, decodeServerHello, encodeClientHello, frameMessage } from './messages.js';
import { TlsServer } from './server.js';
import { AntiReplay, TicketKeyRing, type ClientSession } from './session-ticket.js';

const NOW = Date.UTC(2026, 10, 24, 12);
const DAY = 86_400_000;
const CLIENT_TP = Uint8Array.of(0x01, 0x02, 0x40, 0x64); // max_idle_timeout 100
const SERVER_TP = Uint8Array.of(0x03, 0x02, 0x45, 0xc0); // max_udp_payload_size 1472
const GROUPS: readonly NamedGroupName[] = ['x25519', 'secp256r1', 'secp384r1'];

const alertCode = (name: keyof typeof AlertDescription): number => cryptoError(AlertDescription[name]);

function codeOf(e: Error | undefined): number | undefined {
  if (e === undefined) return undefined;
  if (!(e instanceof QuicError)) throw e;
  return e.code;
}

/** Both sides hold the same secret for each level and direction they share, and equal exporters. */
function expectMatchingKeys(r: PairResult, levels: string[] = ['handshake', 'application']): void {
  for (const level of levels) {
    expect(r.client.secrets.get(`write:${level}`)).toEqual(r.server.secrets.get(`read:${level}`));
    expect(r.server.secrets.get(`write:${level}`)).toEqual(r.client.secrets.get(`read:${level}`));
    expect(r.client.secrets.get(`write:${level}`)).toBeDefined();
  }
}

function eventsOf<T extends TlsEvent['type']>(log: SideLog, type: T): Array<Extract<TlsEvent, { type: T }>> {
  return log.events.filter((e): e is Extract<TlsEvent, { type: T }> => e.type === type);
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('TLS 1.3 handshakes with the $name provider', (provider) => {
  const pki = createTestPki(provider, NOW);
  const leaves = new Map(LEAF_KEY_TYPES.map((t) => [t, pki.leaf(t)]));
  const clientLeaf = pki.leaf('P-256', { names: ['edge-agent-7'] });

  const server = (o: Partial<TlsServerConfig> = {}, leaf: LeafKeyType = 'P-256'): TlsServer =>
    new TlsServer({ provider, alpn: ['h3'], transportParameters: SERVER_TP, certificateChain: leaves.get(leaf)!.chain, privateKey: leaves.get(leaf)!.key, ...o });
  const client = (o: Partial<TlsClientConfig> = {}): TlsClient =>
    new TlsClient({ provider, alpn: ['h3'], transportParameters: CLIENT_TP, serverName: 'localhost', ca: pki.roots, ...o });

  describe('every cipher suite × group × signature key', () => {
    for (const suite of CIPHER_SUITES) {
      for (const group of GROUPS) {
        it(`${suite.name} over ${group}`, () => {
          for (const leaf of LEAF_KEY_TYPES) {
            const keyLog: string[] = [];
            const c = client({ cipherSuites: [suite.id], groups: [group], keyLog: (l) => keyLog.push(l) });
            const s = server({ groups: [group] }, leaf);
            const r = runHandshake(c, s, NOW);
            expect(r.client.error).toBeUndefined();
            expect(r.server.error).toBeUndefined();
            expect(r.done).toBe(true);
            expectMatchingKeys(r);
            const done = eventsOf(r.client, 'handshake-complete')[0]!;
            expect(done).toMatchObject({ alpn: 'h3', cipherSuite: suite.id, resumed: false });
            expect(done.peerCertificates[0]).toEqual(leaves.get(leaf)!.chain[0]);
            expect(eventsOf(r.client, 'peer-transport-parameters')[0]!.data).toEqual(SERVER_TP);
            expect(eventsOf(r.server, 'peer-transport-parameters')[0]!.data).toEqual(CLIENT_TP);
            expect(r.client.secrets.get('write:handshake')!.length).toBe(suite.hashLength);
            expect(c.exportKeyingMaterial('EXPORTER-gquic', Uint8Array.of(1), 32)).toEqual(s.exportKeyingMaterial('EXPORTER-gquic', Uint8Array.of(1), 32));
            expect(keyLog.map((l) => l.split(' ')[0])).toEqual([
              'SERVER_HANDSHAKE_TRAFFIC_SECRET',
              'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
              'SERVER_TRAFFIC_SECRET_0',
              'CLIENT_TRAFFIC_SECRET_0',
              'EXPORTER_SECRET',
            ]);
          }
        });
      }
    }
  });

  it('uses HelloRetryRequest when the client has no share for a group the server accepts', () => {
    const c = client({ keyShareGroups: ['x25519'] });
    const s = server({ groups: ['secp384r1'] });
    const r = runHandshake(c, s, NOW);
    expect(r.done).toBe(true);
    expectMatchingKeys(r);
    const serverInitial = eventsOf(r.server, 'handshake-data').filter((e) => e.level === 'initial');
    expect(serverInitial).toHaveLength(2);
    expect(decodeServerHello(serverInitial[0]!.data.subarray(4)).random).toEqual(HRR_RANDOM);
    expect(eventsOf(r.client, 'handshake-data').filter((e) => e.level === 'initial')).toHaveLength(2);
  });

  it('fails with handshake_failure when no group or suite is shared', () => {
    let r = runHandshake(client({ groups: ['x25519'] }), server({ groups: ['secp384r1'] }), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('handshake_failure'));
    r = runHandshake(client({ cipherSuites: [0x1303] }), server({ cipherSuites: [0x1301] }), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('handshake_failure'));
  });

  it('needs a common ALPN (no_application_protocol) and both transport parameter sets (missing_extension)', () => {
    let r = runHandshake(client({ alpn: ['gpanel/1'] }), server(), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('no_application_protocol'));
    const { transportParameters: _omit, ...noTp } = { provider, alpn: ['h3'], serverName: 'localhost', ca: pki.roots, transportParameters: undefined };
    r = runHandshake(new TlsClient(noTp), server(), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('missing_extension'));
    r = runHandshake(client(), new TlsServer({ provider, alpn: ['h3'], certificateChain: leaves.get('P-256')!.chain, privateKey: leaves.get('P-256')!.key }), NOW);
    expect(codeOf(r.client.error)).toBe(alertCode('missing_extension'));
  });

  it('authenticates clients with certificates (mutual TLS)', () => {
    const mtls = { clientAuth: 'require' as const, clientCa: pki.roots };
    let r = runHandshake(client({ certificateChain: clientLeaf.chain, privateKey: clientLeaf.key }), server(mtls), NOW);
    expect(r.done).toBe(true);
    expectMatchingKeys(r);
    expect(eventsOf(r.server, 'handshake-complete')[0]!.peerCertificates[0]).toEqual(clientLeaf.chain[0]);

    r = runHandshake(client(), server(mtls), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('certificate_required'));
    r = runHandshake(client(), server({ ...mtls, clientAuth: 'request' }), NOW);
    expect(r.done).toBe(true);
    expect(eventsOf(r.server, 'handshake-complete')[0]!.peerCertificates).toEqual([]);

    const stranger = createTestPki(provider, NOW, 'another CA').leaf('Ed25519');
    r = runHandshake(client({ certificateChain: stranger.chain, privateKey: stranger.key }), server(mtls), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('unknown_ca'));
    // A client certificate whose key did not sign the CertificateVerify.
    r = runHandshake(client({ certificateChain: clientLeaf.chain, privateKey: leaves.get('P-256')!.key }), server(mtls), NOW);
    expect(codeOf(r.server.error)).toBe(alertCode('decrypt_error'));
  });

  describe('resumption and 0-RTT', () => {
    const ticketKeys = new TicketKeyRing(provider);
    const antiReplay = new AntiReplay();
    const resumingServer = (o: Partial<TlsServerConfig> = {}): TlsServer => server({ ticketKeys, antiReplay, earlyData: true, ...o });

    function firstSession(o: Partial<TlsClientConfig> = {}, so: Partial<TlsServerConfig> = {}): ClientSession {
      const r = runHandshake(client(o), resumingServer(so), NOW);
      expect(r.done).toBe(true);
      const tickets = eventsOf(r.client, 'session-ticket');
      expect(tickets).toHaveLength(1);
      expect(tickets[0]!.session.transportParameters).toEqual(SERVER_TP);
      expect(tickets[0]!.session.maxEarlyData).toBe(0xffffffff);
      return tickets[0]!.session;
    }

    it('resumes with a ticket: no certificates, same keys on both sides, a new ticket', () => {
      const session = firstSession();
      const r = runHandshake(client({ session }), resumingServer(), NOW + 1000);
      expect(r.done).toBe(true);
      expectMatchingKeys(r);
      expect(eventsOf(r.client, 'handshake-complete')[0]).toMatchObject({ resumed: true, peerCertificates: [] });
      const serverTypes = eventsOf(r.server, 'handshake-data').map((e) => e.data[0]);
      expect(serverTypes).not.toContain(HandshakeType.certificate);
      expect(eventsOf(r.client, 'session-ticket')).toHaveLength(1);
    });

    it('falls back to a full handshake for a ticket it cannot open, an expired one or another server name', () => {
      const session = firstSession();
      let r = runHandshake(client({ session }), server({ ticketKeys: new TicketKeyRing(provider) }), NOW);
      expect(r.done && eventsOf(r.client, 'handshake-complete')[0]!.resumed).toBe(false);
      r = runHandshake(client({ session }), resumingServer(), NOW + 2 * DAY);
      expect(r.done && eventsOf(r.client, 'handshake-complete')[0]!.resumed).toBe(false);
      r = runHandshake(client({ session, serverName: 'panel.example' }), resumingServer(), NOW);
      expect(r.done && eventsOf(r.client, 'handshake-complete')[0]!.resumed).toBe(false);
    });

    it('resumes after a HelloRetryRequest (binder over message_hash and the HRR)', () => {
      const session = firstSession();
      const r = runHandshake(client({ session, keyShareGroups: ['x25519'] }), resumingServer({ groups: ['secp256r1'] }), NOW);
      expect(r.done).toBe(true);
      expect(eventsOf(r.server, 'handshake-complete')[0]!.resumed).toBe(true);
    });

    it('accepts 0-RTT once: early keys match, a replay of the ticket is refused but still resumes', () => {
      const session = firstSession();
      const keyLog: string[] = [];
      const c = client({ session, earlyData: true, keyLog: (l) => keyLog.push(l) });
      let r = runHandshake(c, resumingServer(), NOW + 500);
      expect(r.done).toBe(true);
      expect(eventsOf(r.client, 'early-data')).toEqual([{ type: 'early-data', accepted: true }]);
      expect(eventsOf(r.server, 'early-data')).toEqual([{ type: 'early-data', accepted: true }]);
      expect(r.client.secrets.get('write:early')).toEqual(r.server.secrets.get('read:early'));
      expect(keyLog[0]!.startsWith('CLIENT_EARLY_TRAFFIC_SECRET ')).toBe(true);
      expectMatchingKeys(r);

      r = runHandshake(client({ session, earlyData: true }), resumingServer(), NOW + 600);
      expect(r.done).toBe(true);
      expect(eventsOf(r.client, 'early-data')).toEqual([{ type: 'early-data', accepted: false }]);
      expect(eventsOf(r.client, 'handshake-complete')[0]!.resumed).toBe(true);
    });

    it('rejects 0-RTT when the application says no, after a HelloRetryRequest, or for another ALPN', () => {
      let session = firstSession();
      let r = runHandshake(client({ session, earlyData: true }), resumingServer({ acceptEarlyData: ({ ticketAppData }) => ticketAppData.length === 0 }), NOW);
      expect(r.done).toBe(true);
      expect(eventsOf(r.client, 'early-data')).toEqual([{ type: 'early-data', accepted: false }]);
      expect(r.server.secrets.has('read:early')).toBe(false);

      session = firstSession();
      r = runHandshake(client({ session, earlyData: true, keyShareGroups: ['x25519'] }), resumingServer({ groups: ['secp384r1'] }), NOW);
      expect(r.done).toBe(true);
      expect(eventsOf(r.client, 'early-data')).toEqual([{ type: 'early-data', accepted: false }]);

      session = firstSession({ alpn: ['h3', 'gpanel/1'] }, { alpn: ['gpanel/1', 'h3'] });
      expect(session.alpn).toBe('gpanel/1');
      r = runHandshake(client({ session, earlyData: true, alpn: ['h3', 'gpanel/1'] }), resumingServer({ alpn: ['h3'] }), NOW);
      expect(r.done).toBe(true);
      expect(eventsOf(r.server, 'early-data')).toEqual([{ type: 'early-data', accepted: false }]);
    });

    it('refuses a forged binder with decrypt_error', () => {
      const session = firstSession();
      const forged = { ...session, psk: session.psk.map((b) => b ^ 1) };
      const r = runHandshake(client({ session: forged }), resumingServer(), NOW);
      expect(codeOf(r.server.error)).toBe(alertCode('decrypt_error'));
    });
  });

  describe('server certificate failures', () => {
    const run = (o: Partial<TlsClientConfig>, leaf = pki.leaf('P-256')): PairResult =>
      runHandshake(client(o), new TlsServer({ provider, alpn: ['h3'], transportParameters: SERVER_TP, certificateChain: leaf.chain, privateKey: leaf.key }), NOW);

    it('unknown CA', () => {
      expect(codeOf(run({ ca: createTestPki(provider, NOW, 'other').roots }).client.error)).toBe(alertCode('unknown_ca'));
      // The system roots do not know our test CA either.
      expect(codeOf(run({ ca: undefined as never }).client.error)).toBe(alertCode('unknown_ca'));
    });
    it('expired and not yet valid', () => {
      expect(codeOf(run({}, pki.leaf('P-256', { notBefore: NOW - 10 * DAY, notAfter: NOW - DAY })).client.error)).toBe(alertCode('certificate_expired'));
      expect(codeOf(run({}, pki.leaf('P-256', { notBefore: NOW + DAY, notAfter: NOW + 10 * DAY })).client.error)).toBe(alertCode('certificate_expired'));
    });
    it('host name mismatch, for names and IP addresses', () => {
      expect(codeOf(run({ serverName: 'evil.example' }).client.error)).toBe(alertCode('bad_certificate'));
      expect(codeOf(run({ serverName: '10.9.9.9' }).client.error)).toBe(alertCode('bad_certificate'));
      expect(run({ serverName: '127.0.0.1' }).done).toBe(true);
    });
    it('bad signature on the certificate, and a CertificateVerify by another key', () => {
      const leaf = pki.leaf('P-256');
      const tampered = leaf.chain[0]!.slice();
      tampered[tampered.length - 5]! ^= 0x40;
      expect(codeOf(run({}, { chain: [tampered, leaf.chain[1]!], key: leaf.key }).client.error)).toBe(alertCode('bad_certificate'));
      expect(codeOf(run({}, { chain: leaf.chain, key: pki.leaf('P-256').key }).client.error)).toBe(alertCode('decrypt_error'));
    });
    it('insecure skips verification but not the CertificateVerify check', () => {
      expect(run({ ca: createTestPki(provider, NOW, 'other').roots, insecure: true, serverName: 'evil.example' }).done).toBe(true);
      const leaf = pki.leaf('P-256');
      expect(codeOf(run({ insecure: true }, { chain: leaf.chain, key: pki.leaf('P-256').key }).client.error)).toBe(alertCode('decrypt_error'));
    });
  });
});

describe('QUIC-specific TLS rules (RFC 9001 §8)', () => {
  const provider = nodeProvider;
  const pki = createTestPki(provider, NOW);
  const leaf = pki.leaf('P-256');
  const server = (): TlsServer => new TlsServer({ provider, alpn: ['h3'], transportParameters: SERVER_TP, certificateChain: leaf.chain, privateKey: leaf.key });
  const client = (): TlsClient => new TlsClient({ provider, alpn: ['h3'], transportParameters: CLIENT_TP, serverName: 'localhost', ca: pki.roots });

  function clientHello(): Uint8Array {
    const c = client();
    c.start(NOW);
    const e = c.pollEvent();
    if (e?.type !== 'handshake-data') throw new Error('no ClientHello');
    return e.data;
  }

  it('a server refuses a ClientHello with a legacy_session_id as PROTOCOL_VIOLATION', () => {
    const ch = decodeClientHello(clientHello().subarray(4));
    const s = server();
    const bad = encodeClientHello({ ...ch, legacySessionId: new Uint8Array(32).fill(7) });
    expect(() => s.handleCryptoData('initial', 0, bad, NOW)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    // The error is latched.
    expect(() => s.handleCryptoData('initial', bad.length, new Uint8Array(1), NOW)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
  });

  it('refuses KeyUpdate and EndOfEarlyData messages with unexpected_message (0x010a)', () => {
    const c = client();
    const s = server();
    expect(runHandshake(c, s, NOW).done).toBe(true);
    const keyUpdate = frameMessage(HandshakeType.key_update, Uint8Array.of(0));
    expect(() => c.handleCryptoData('application', 0, keyUpdate, NOW)).toThrow(expect.objectContaining({ code: 0x10a }));
    expect(() => s.handleCryptoData('application', 0, keyUpdate, NOW)).toThrow(expect.objectContaining({ code: 0x10a }));

    const s2 = server();
    s2.handleCryptoData('initial', 0, clientHello(), NOW);
    expect(() => s2.handleCryptoData('handshake', 0, frameMessage(HandshakeType.end_of_early_data, new Uint8Array(0)), NOW)).toThrow(expect.objectContaining({ code: 0x10a }));
  });

  it('reassembles handshake bytes split into single bytes and delivered in reverse', () => {
    const reverseBytes = (data: Uint8Array): Array<{ offset: number; data: Uint8Array }> =>
      Array.from(data, (_, i) => ({ offset: i, data: data.subarray(i, i + 1) })).reverse();
    const r = runHandshake(client(), server(), NOW, { split: reverseBytes });
    expect(r.done).toBe(true);
    expectMatchingKeys(r);
  });

  it('bounds buffered CRYPTO data (CRYPTO_BUFFER_EXCEEDED) and rejects data at the wrong level', () => {
    const s = server();
    expect(() => s.handleCryptoData('initial', 1_000_000, new Uint8Array(10), NOW)).toThrow(expect.objectContaining({ code: TransportErrorCode.CRYPTO_BUFFER_EXCEEDED }));
    const s2 = server();
    expect(() => s2.handleCryptoData('handshake', 0, clientHello(), NOW)).toThrow(expect.objectContaining({ code: alertCode('unexpected_message') }));
  });
});
