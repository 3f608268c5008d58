import { describe, expect, it } from 'vitest';
import { RFC8448_RESUMED as R, RFC8448_SIMPLE as V } from '@gquic/testkit';
import { hkdfExpandLabel, nobleProvider, nodeProvider, type CryptoProvider } from '@gquic/crypto';
import { fromHex, toHex } from '@gquic/wire';
import { CryptoReceiveBuffer } from './crypto-stream.js';
import { KeySchedule } from './key-schedule.js';
import { ExtensionType, HandshakeType, decodeCertificateVerify, decodeClientHello, decodeServerHello, ext, findExtension } from './messages.js';

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

    // The resumption master secret and the PSK of the trace's ticket (nonce 00 00), which §4 resumes with.
    ks.addMessage(cfin);
    expect(toHex(ks.resumptionMasterSecret())).toBe(hex(R.resumptionMaster));
    expect(toHex(ks.ticketPsk(ks.resumptionMasterSecret(), h(R.ticketNonce)))).toBe(hex(R.psk));
  });
});

describe.each([nodeProvider, nobleProvider] as CryptoProvider[])('RFC 8448 §4 resumed 0-RTT handshake with the $name provider', (p) => {
  it('derives the binder, the early secrets and every later secret of the trace byte-exact', () => {
    const ks = new KeySchedule(p, 'sha256', h(R.psk));
    expect(toHex(ks.currentSecret)).toBe(hex(R.earlySecret));
    const binderKey = ks.binderKey(true);
    expect(toHex(binderKey)).toBe(hex(R.binderKey));
    expect(toHex(hkdfExpandLabel(p, 'sha256', binderKey, 'finished', new Uint8Array(0), 32))).toBe(hex(R.binderFinishedKey));

    // The binder covers the ClientHello up to (not including) the binders list (RFC 8446 §4.2.11.2).
    const ch = h(R.clientHello);
    const offered = ext.preSharedKey.decodeClient(findExtension(decodeClientHello(ch.subarray(4)).extensions, ExtensionType.pre_shared_key)!);
    expect(offered.identities[0]!.obfuscatedTicketAge).toBe(parseInt(hex(R.obfuscatedTicketAge), 16));
    const truncated = ch.subarray(0, ch.length - ext.preSharedKey.bindersLength(offered.binders));
    expect(toHex(ks.transcriptWith(truncated))).toBe(hex(R.binderHash));
    const binder = ks.finishedVerifyData(binderKey, ks.transcriptWith(truncated));
    expect(toHex(binder)).toBe(hex(R.binder));
    expect(toHex(offered.binders[0]!)).toBe(hex(R.binder));

    ks.addMessage(ch);
    expect(toHex(ks.transcript())).toBe(hex(R.clientHelloHash));
    const early = ks.clientEarlyTrafficSecret();
    expect(toHex(early)).toBe(hex(R.clientEarlyTraffic));
    expect(toHex(ks.deriveSecret(ks.currentSecret, 'e exp master', ks.transcript()))).toBe(hex(R.earlyExporterMaster));
    expect(toHex(hkdfExpandLabel(p, 'sha256', early, 'key', new Uint8Array(0), 16))).toBe(hex(R.earlyKey));
    expect(toHex(hkdfExpandLabel(p, 'sha256', early, 'iv', new Uint8Array(0), 12))).toBe(hex(R.earlyIv));

    // The trace prints transcript hashes for the later messages; the secrets follow from them.
    ks.enterHandshake(h(R.ecdhe));
    const hs = ks.currentSecret;
    expect(toHex(ks.deriveSecret(hs, 'c hs traffic', h(R.helloHash)))).toBe(hex(R.clientHandshakeTraffic));
    const shs = ks.deriveSecret(hs, 's hs traffic', h(R.helloHash));
    expect(toHex(shs)).toBe(hex(R.serverHandshakeTraffic));
    expect(toHex(hkdfExpandLabel(p, 'sha256', shs, 'key', new Uint8Array(0), 16))).toBe(hex(R.serverHandshakeKey));
    ks.enterMaster();
    const ms = ks.currentSecret;
    const cats = ks.deriveSecret(ms, 'c ap traffic', h(R.serverFinishedHash));
    expect(toHex(cats)).toBe(hex(R.clientApplicationTraffic));
    expect(toHex(hkdfExpandLabel(p, 'sha256', cats, 'key', new Uint8Array(0), 16))).toBe(hex(R.clientApplicationKey));
    expect(toHex(ks.deriveSecret(ms, 's ap traffic', h(R.serverFinishedHash)))).toBe(hex(R.serverApplicationTraffic));
    expect(toHex(ks.deriveSecret(ms, 'exp master', h(R.serverFinishedHash)))).toBe(hex(R.exporterMaster));
    expect(toHex(ks.deriveSecret(ms, 'res master', h(R.clientFinishedHash)))).toBe(hex(R.resumptionMasterResumed));
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
