// A full TLS 1.3 handshake for QUIC, client and server in one process (ECDSA P-256 certificate, x25519,
// AES-128-GCM), per crypto provider: what a server pays per new connection before any packet protection.

import { nobleProvider, nodeProvider, type CryptoProvider } from '@gquic/crypto';
import { TicketKeyRing, TlsClient, TlsServer, createSelfSignedCertificate, parseCertificate, type ClientSession, type TlsConnection } from '@gquic/tls';
import { runCases, type Case, type Row } from './lib.js';

/** Delivers each side's handshake bytes to the other until neither has anything to say. */
function pump(client: TlsConnection, server: TlsConnection, now: number): void {
  const offsets = new Map<string, number>();
  client.start(now);
  let moved = true;
  while (moved) {
    moved = false;
    for (const [from, to] of [
      [client, server],
      [server, client],
    ] as const) {
      for (let e = from.pollEvent(); e !== undefined; e = from.pollEvent()) {
        if (e.type !== 'handshake-data') continue;
        const key = `${from === client ? 'c' : 's'}${e.level}`;
        const off = offsets.get(key) ?? 0;
        offsets.set(key, off + e.data.length);
        to.handleCryptoData(e.level, off, e.data, now);
        moved = true;
      }
    }
  }
  if (!client.handshakeComplete || !server.handshakeComplete) throw new Error('handshake did not complete');
}

export async function benchTls(): Promise<Row[]> {
  const cases: Case[] = [];
  const now = Date.now();
  for (const provider of [nodeProvider, nobleProvider] as CryptoProvider[]) {
    const cert = createSelfSignedCertificate({ provider, now });
    const roots = [parseCertificate(cert.certificate)];
    const tp = Uint8Array.of(1, 2, 0x40, 0x64);
    const make = (resume: boolean, ticketKeys: TicketKeyRing | undefined, session?: ClientSession) => ({
      client: new TlsClient({ provider, alpn: ['h3'], transportParameters: tp, serverName: 'localhost', ca: roots, ...(resume && session ? { session } : {}) }),
      server: new TlsServer({ provider, alpn: ['h3'], transportParameters: tp, certificateChain: [cert.certificate], privateKey: cert.key, ...(ticketKeys ? { ticketKeys } : {}) }),
    });
    const batch = provider === nodeProvider ? 5 : 1;
    cases.push({
      name: `${provider.name} full handshake (ECDSA P-256, x25519)`,
      batch,
      fn: () => {
        for (let i = 0; i < batch; i++) {
          const { client, server } = make(false, undefined);
          pump(client, server, now);
        }
      },
    });
    // Resumption skips the certificate signature and chain verification.
    const ticketKeys = new TicketKeyRing(provider);
    const first = make(false, ticketKeys);
    pump(first.client, first.server, now);
    let session: ClientSession | undefined;
    for (let e = first.client.pollEvent(); e !== undefined; e = first.client.pollEvent()) if (e.type === 'session-ticket') session = e.session;
    cases.push({
      name: `${provider.name} resumed handshake (PSK + x25519)`,
      batch,
      fn: () => {
        for (let i = 0; i < batch; i++) {
          const { client, server } = make(true, ticketKeys, session);
          pump(client, server, now);
        }
      },
    });
  }
  return runCases('TLS 1.3 handshake, client + server in one process (µs = ns/op ÷ 1000)', cases);
}
