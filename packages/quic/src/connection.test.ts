import { describe, expect, it } from 'vitest';
import { nodeProvider } from '@gquic/crypto';
import { SERVER_ADDRESS, SimNetwork, createTestPki, type SimOptions } from '@gquic/testkit';
import type { ClientConfig, ServerConfig, TransportConfig } from './config.js';
import type { Connection } from './connection.js';
import { Endpoint } from './endpoint.js';
import type { ConnectionEvent } from './events.js';

const START = Date.UTC(2026, 10, 24) * 1000;
const provider = nodeProvider;
const pki = createTestPki(provider, START / 1000);
const leaf = pki.leaf('P-256');

function pair(opts: SimOptions = {}, transport: Partial<TransportConfig> = {}, serverTransport: Partial<TransportConfig> = {}) {
  const serverConfig: ServerConfig = { tls: { provider, alpn: ['gquic-test'], certificateChain: leaf.chain, privateKey: leaf.key }, transport: { ...transport, ...serverTransport } };
  const clientConfig: ClientConfig = { tls: { provider, alpn: ['gquic-test'], serverName: 'localhost', ca: pki.roots }, transport };
  const server = new Endpoint(serverConfig);
  const client = new Endpoint(undefined, transport);
  const net = new SimNetwork(client, server, { startUs: START, ...opts });
  const conn = client.connect(SERVER_ADDRESS, clientConfig, net.now);
  let serverConn: Connection | undefined;
  const clientEvents: ConnectionEvent[] = [];
  const serverEvents: ConnectionEvent[] = [];
  const pump = (): void => {
    for (let e = server.pollEvent(); e !== undefined; e = server.pollEvent()) serverConn = e.connection;
    for (let e = conn.pollEvent(); e !== undefined; e = conn.pollEvent()) clientEvents.push(e);
    if (serverConn !== undefined) for (let e = serverConn.pollEvent(); e !== undefined; e = serverConn.pollEvent()) serverEvents.push(e);
  };
  return { net, client, server, conn, clientEvents, serverEvents, pump, serverConn: () => serverConn };
}

describe('QUIC connection over the simulated network', () => {
  it('completes the handshake and confirms it on both sides', () => {
    const p = pair();
    const ok = p.net.run(() => p.conn.handshakeConfirmed && (p.serverConn()?.handshakeConfirmed ?? false), 5_000_000, p.pump);
    expect(ok).toBe(true);
    expect(p.clientEvents).toContainEqual({ type: 'handshake-done', alpn: 'gquic-test', resumed: false, cipherSuite: 0x1301 });
    expect(p.net.sentBytes[0]).toBeGreaterThan(1200);
  });

  it('transfers a stream both ways, byte-exact', () => {
    const p = pair();
    p.net.run(() => p.conn.handshakeComplete, 5_000_000, p.pump);
    const id = p.conn.openStream(true)!;
    const payload = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    let written = 0;
    const received: Uint8Array[] = [];
    const echoed: Uint8Array[] = [];
    let serverFin = false;
    let clientFin = false;
    const ok = p.net.run(
      () => clientFin,
      30_000_000,
      () => {
        p.pump();
        if (written < payload.length) written += p.conn.streamWrite(id, payload.subarray(written), true);
        const s = p.serverConn();
        if (s !== undefined) {
          for (let r = s.streamRead(id, 65536, p.net.now); r !== null; r = s.streamRead(id, 65536, p.net.now)) {
            received.push(r.data);
            if (r.data.length > 0) s.streamWrite(id, r.data);
            if (r.fin) {
              serverFin = true;
              s.streamFinish(id);
              break;
            }
          }
        }
        for (let r = p.conn.streamRead(id, 65536, p.net.now); r !== null; r = p.conn.streamRead(id, 65536, p.net.now)) {
          echoed.push(r.data);
          if (r.fin) clientFin = true;
        }
      },
    );
    expect(ok).toBe(true);
    expect(serverFin).toBe(true);
    // Buffer.equals, not toEqual: deep equality over 300 kB costs seconds.
    expect(Buffer.concat(received).equals(payload)).toBe(true);
    expect(Buffer.concat(echoed).equals(payload)).toBe(true);
  });
});
