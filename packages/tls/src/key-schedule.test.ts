import { describe, expect, it } from 'vitest';
import { RFC8448_SIMPLE as V } from '@gquic/testkit';
import { hkdfExpandLabel, nobleProvider, nodeProvider, type CryptoProvider } from '@gquic/crypto';
import { fromHex, toHex } from '@gquic/wire';
import { CryptoReceiveBuffer } from './crypto-stream.js';
import { KeySchedule } from './key-schedule.js';
import { HandshakeType, decodeCertificateVerify, decodeClientHello, decodeServerHello } from './messages.js';

const h = (s: string): Uint8Array => fromHex(s);
const hex = (s: string): string => s.replace(/\s+/g, '');

/** Opens a TLS 1.3 record (RFC 8446 §5.2) with a traffic secret: returns the inner plaintext without its type. */
function openRecord(p: CryptoProvider, secret: Uint8Array, record: Uint8Array): Uint8Array {
  const key = hkdfExpandLabel(p, 'sha256', secret, 'key', new Uint8Array(0), 16);
  const iv = hkdfExpandLabel(p, 'sha256', secret, 'iv', new Uint8Array(0), 12);
  const buf = record.slice(5);
  expect(p.aead('aes-128-gcm', key).open(iv, record.subarray(0, 5), buf, 0, buf.length)).toBe(true);
  const inner = buf.subarray(0, buf.length - 16);
  expect(inner[inner.length - 1]).toBe(0x16); // content type: handshake
  return inner.subarray(0, inner.length - 1);
}

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('RFC 8448 §3 simple 1-RTT handshake with the $name provider', (p) => {
  it('derives every secret of the trace and the Finished values byte-exact', () => {
    const ks = new KeySchedule(p, 'sha256');
    expect(toHex(ks.currentSecret)).toBe(hex(V.earlySecret));

    const ch = h(V.clientHello);
    const sh = h(V.serverHelloRecord).subarray(5);
    expect(decodeClientHello(ch.subarray(4)).cipherSuites).toEqual([0x1301, 0x1303, 0x1302]);
    expect(decodeServerHello(sh.subarray(4)).cipherSuite).toBe(0x1301);
    ks.addMessage(ch);
    ks.addMessage(sh);
    expect(toHex(ks.transcript())).toBe(hex(V.helloHash));

    ks.enterHandshake(h(V.ecdhe));
    expect(toHex(ks.currentSecret)).toBe(hex(V.handshakeSecret));
    const hs = ks.handshakeTrafficSecrets();
    expect(toHex(hs.client)).toBe(hex(V.clientHandshakeTraffic));
    expect(toHex(hs.server)).toBe(hex(V.serverHandshakeTraffic));
    expect(toHex(hkdfExpandLabel(p, 'sha256', hs.server, 'key', new Uint8Array(0), 16))).toBe(hex(V.serverHandshakeKey));
    expect(toHex(hkdfExpandLabel(p, 'sha256', hs.client, 'iv', new Uint8Array(0), 12))).toBe(hex(V.clientHandshakeIv));
    expect(toHex(hkdfExpandLabel(p, 'sha256', hs.server, 'finished', new Uint8Array(0), 32))).toBe(hex(V.serverFinishedKey));

    // The server's encrypted flight, decrypted with the handshake keys: EE, Certificate, CertificateVerify, Finished.
    const flight = new CryptoReceiveBuffer();
    flight.insert(0, openRecord(p, hs.server, h(V.serverFlightRecord)));
    const types: number[] = [];
    for (let m = flight.nextMessage(); m !== undefined; m = flight.nextMessage()) {
      types.push(m.type);
      if (m.type === HandshakeType.finished) {
        expect(toHex(m.body)).toBe(toHex(ks.finishedVerifyData(hs.server, ks.transcript())));
      }
      if (m.type === HandshakeType.certificate_verify) expect(decodeCertificateVerify(m.body).scheme).toBe(0x0804);
      ks.addMessage(m.raw);
    }
    expect(types).toEqual([HandshakeType.encrypted_extensions, HandshakeType.certificate, HandshakeType.certificate_verify, HandshakeType.finished]);
    expect(toHex(ks.transcript())).toBe(hex(V.serverFinishedHash));

    ks.enterMaster();
    expect(toHex(ks.currentSecret)).toBe(hex(V.masterSecret));
    const app = ks.applicationSecrets();
    expect(toHex(app.client)).toBe(hex(V.clientApplicationTraffic));
    expect(toHex(app.server)).toBe(hex(V.serverApplicationTraffic));
    expect(toHex(app.exporter)).toBe(hex(V.exporterMaster));

    // The client Finished record carries the verify_data we compute.
    const cfin = openRecord(p, hs.client, h(V.clientFinishedRecord));
    expect(cfin[0]).toBe(HandshakeType.finished);
    expect(toHex(cfin.subarray(4))).toBe(toHex(ks.finishedVerifyData(hs.client, ks.transcript())));
  });
});

describe('CRYPTO reassembly', () => {
  it('reassembles messages split and reordered at any offsets, ignoring duplicates', () => {
    const msg = h(V.clientHello);
    const b = new CryptoReceiveBuffer();
    b.insert(100, msg.subarray(100, 150));
    b.insert(10, msg.subarray(10, 120));
    expect(b.nextMessage()).toBeUndefined();
    b.insert(0, msg.subarray(0, 20));
    b.insert(150, msg.subarray(150));
    b.insert(5, msg.subarray(5, 60));
    const m = b.nextMessage();
    expect(m?.raw).toEqual(msg);
    expect(b.buffered).toBe(0);
    expect(b.hasPartialData).toBe(false);
  });

  it('bounds what it buffers with CRYPTO_BUFFER_EXCEEDED', () => {
    const b = new CryptoReceiveBuffer(4096);
    expect(() => b.insert(5000, new Uint8Array(10))).toThrow(expect.objectContaining({ code: 0x0d }));
    const c = new CryptoReceiveBuffer(4096);
    c.insert(0, Uint8Array.of(11, 0x01, 0, 0)); // a 64 KiB Certificate announced
    expect(() => c.nextMessage()).toThrow(expect.objectContaining({ code: 0x0d }));
  });
});
