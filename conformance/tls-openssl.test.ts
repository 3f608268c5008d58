// Our TLS 1.3 handshake against an independent implementation: node:tls (OpenSSL) over TCP, with a test-only
// record layer around our sans-IO TlsClient/TlsServer. The handshake messages are those QUIC carries in CRYPTO
// frames; only the record layer differs (RFC 9001 §4).

import { once } from 'node:events';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { CIPHER_SUITES, nobleProvider, nodeProvider, toPem, type CryptoProvider } from '@gquic/crypto';
import { AntiReplay, TicketKeyRing, TlsClient, TlsServer, type TlsClientConfig, type TlsServerConfig } from '@gquic/tls';
import { TlsOverTcp, createTestPki } from '@gquic/testkit';

const pki = createTestPki(nodeProvider, Date.now());
const caPem = toPem('CERTIFICATE', pki.ca);
const serverLeaf = pki.leaf('P-256');
const clientLeaf = pki.leaf('P-256', { names: ['edge-agent-1'] });
const ALPN = 'gquic-interop';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const OPENSSL_SUITES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
};

const closers: Array<() => void> = [];
afterAll(() => closers.forEach((c) => c()));

/** A node:tls echo server restricted to TLS 1.3. */
async function opensslServer(o: tls.TlsOptions = {}): Promise<{ port: number; clientCerts: Array<string | undefined>; resumed: boolean[] }> {
  const clientCerts: Array<string | undefined> = [];
  const resumed: boolean[] = [];
  const server = tls.createServer(
    {
      minVersion: 'TLSv1.3',
      maxVersion: 'TLSv1.3',
      cert: toPem('CERTIFICATE', serverLeaf.chain[0]!),
      key: toPem('PRIVATE KEY', serverLeaf.key.pkcs8),
      ALPNProtocols: [ALPN],
      ...o,
    },
    (socket) => {
      const peer = socket.getPeerCertificate();
      clientCerts.push(peer !== null && 'subject' in peer && peer.subject !== undefined ? String(peer.subject.CN) : undefined);
      resumed.push(socket.isSessionReused());
      socket.on('data', (d: Buffer) => socket.write(Buffer.concat([Buffer.from('echo:'), d])));
      socket.on('error', () => undefined);
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, clientCerts, resumed };
}

/** Our client over TCP to `port`; completes the handshake and an echo round trip. */
async function ourClient(provider: CryptoProvider, port: number, o: Partial<TlsClientConfig> = {}): Promise<TlsOverTcp> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const client = new TlsClient({ provider, alpn: [ALPN], serverName: 'localhost', ca: pki.roots, ...o });
  const link = new TlsOverTcp(socket, client, provider);
  link.start();
  await link.handshake();
  link.sendApplicationData(encoder.encode('ping'));
  expect(decoder.decode(await link.receiveApplicationData())).toBe('echo:ping');
  return link;
}

/** Our echo server on a fresh port; each accepted connection gets a TlsServer from `config`. */
async function ourServer(provider: CryptoProvider, config: () => TlsServerConfig): Promise<{ port: number; links: TlsOverTcp[] }> {
  const links: TlsOverTcp[] = [];
  const server = net.createServer((socket) => {
    const link = new TlsOverTcp(socket, new TlsServer(config()), provider);
    links.push(link);
    link.start();
    void (async () => {
      try {
        await link.handshake();
        for (;;) {
          const data = await link.receiveApplicationData(30_000);
          link.sendApplicationData(new Uint8Array([...encoder.encode('echo:'), ...data]));
        }
      } catch {
        socket.destroy();
      }
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, links };
}

/** node:tls client to `port`; returns the socket after an echo round trip. */
async function opensslClient(port: number, o: tls.ConnectionOptions = {}, wantSession = false): Promise<{ socket: tls.TLSSocket; session: Buffer | undefined }> {
  const socket = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ca: caPem, ALPNProtocols: [ALPN], ...o });
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => (session = s));
  await once(socket, 'secureConnect');
  expect(socket.alpnProtocol).toBe(ALPN);
  socket.write('ping');
  const [data] = (await once(socket, 'data')) as [Buffer];
  expect(data.toString()).toBe('echo:ping');
  // Tickets arrive after the handshake; give the session event a moment.
  for (let i = 0; wantSession && i < 200 && session === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  return { socket, session };
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('with the $name provider', (provider) => {
  describe('our TLS client against an OpenSSL (node:tls) server', () => {
    for (const suite of CIPHER_SUITES) {
      it(`completes a handshake and round-trips application data with ${suite.name}`, async () => {
        const s = await opensslServer({ ciphers: OPENSSL_SUITES[suite.id]! });
        const link = await ourClient(provider, s.port, { cipherSuites: [suite.id] });
        expect(link.tls.alpn).toBe(ALPN);
        link.close();
      });
    }

    it('answers a HelloRetryRequest when the server accepts only P-384 and we sent an x25519 share', async () => {
      const s = await opensslServer({ ecdhCurve: 'P-384' });
      const link = await ourClient(provider, s.port, { keyShareGroups: ['x25519'] });
      expect(link.sentMessageTypes.filter((t) => t === 1)).toHaveLength(2); // ClientHello, then ClientHello2
      link.close();
    });

    it('authenticates with a client certificate (mutual TLS)', async () => {
      const s = await opensslServer({ requestCert: true, rejectUnauthorized: true, ca: caPem });
      const link = await ourClient(provider, s.port, { certificateChain: clientLeaf.chain, privateKey: clientLeaf.key });
      link.close();
      expect(s.clientCerts).toEqual(['edge-agent-1']);
    });

    it('resumes with an OpenSSL ticket', async () => {
      const s = await opensslServer();
      const first = await ourClient(provider, s.port);
      const [session] = await first.waitForTickets(1);
      first.close();
      const second = await ourClient(provider, s.port, { session: session! });
      second.close();
      expect(s.resumed).toEqual([false, true]);
    });

    it('refuses a server whose certificate it cannot verify', async () => {
      const s = await opensslServer();
      const socket = net.connect(s.port, '127.0.0.1');
      await once(socket, 'connect');
      const link = new TlsOverTcp(socket, new TlsClient({ provider, alpn: [ALPN], serverName: 'localhost', ca: createTestPki(nodeProvider, Date.now(), 'other').roots }), provider);
      link.start();
      await expect(link.handshake()).rejects.toMatchObject({ code: 0x100 + 48 }); // unknown_ca
      socket.destroy();
    });
  });

  describe('an OpenSSL (node:tls) client against our TLS server', () => {
    const base = (): TlsServerConfig => ({ provider, alpn: [ALPN], certificateChain: serverLeaf.chain, privateKey: serverLeaf.key });

    for (const suite of CIPHER_SUITES) {
      it(`completes a handshake and round-trips application data with ${suite.name}`, async () => {
        const s = await ourServer(provider, () => ({ ...base(), cipherSuites: [suite.id] }));
        const { socket } = await opensslClient(s.port, { ciphers: OPENSSL_SUITES[suite.id]! });
        expect(socket.getCipher().standardName ?? socket.getCipher().name).toBe(suite.name);
        socket.end();
      });
    }

    it('sends a HelloRetryRequest when it accepts only P-384', async () => {
      const s = await ourServer(provider, () => ({ ...base(), groups: ['secp384r1'] }));
      const { socket } = await opensslClient(s.port);
      expect(s.links[0]!.sentMessageTypes.filter((t) => t === 2)).toHaveLength(2); // HelloRetryRequest, ServerHello
      socket.end();
    });

    it('requires and verifies a client certificate (mutual TLS)', async () => {
      const s = await ourServer(provider, () => ({ ...base(), clientAuth: 'require', clientCa: pki.roots }));
      const { socket } = await opensslClient(s.port, { cert: toPem('CERTIFICATE', clientLeaf.chain[0]!), key: toPem('PRIVATE KEY', clientLeaf.key.pkcs8) });
      socket.end();
      expect(s.links[0]!.tls.peerCertificates[0]).toEqual(clientLeaf.chain[0]);
    });

    it('issues a ticket that OpenSSL resumes with', async () => {
      const ticketKeys = new TicketKeyRing(provider);
      const s = await ourServer(provider, () => ({ ...base(), ticketKeys, antiReplay: new AntiReplay() }));
      const first = await opensslClient(s.port, {}, true);
      expect(first.session).toBeDefined();
      first.socket.end();
      const second = await opensslClient(s.port, { session: first.session! });
      expect(second.socket.isSessionReused()).toBe(true);
      expect(s.links.map((l) => l.tls.handshakeComplete && (l.tls as TlsServer).sessionResumed)).toEqual([true, true].map((x, i) => x && i === 1));
      second.socket.end();
    });
  });
});
