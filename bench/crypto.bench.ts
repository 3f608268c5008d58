// Packet protection per 1200-byte packet: AEAD seal+open, and header protection (apply+remove), for each
// cipher suite and provider, in one run so the ratios are measured under the same machine load.

import { CIPHER_SUITES, OpenSslAesHeaderProtection, PacketKeys, nobleProvider, nodeProvider } from '@gquic/crypto';
import { QUIC_V1 } from '@gquic/wire';
import { runCases, type Case, type Row } from './lib.js';

export async function benchCrypto(): Promise<Row[]> {
  const cases: Case[] = [];
  for (const provider of [nodeProvider, nobleProvider]) {
    for (const suite of CIPHER_SUITES) {
      const secret = new Uint8Array(suite.hashLength).fill(7);
      const keys = PacketKeys.fromSecret(provider, QUIC_V1, suite, secret);
      const packet = new Uint8Array(1200);
      const header = 1 + 8 + 2;
      packet[0] = 0x41;
      const payloadEnd = 1200 - 16;
      let pn = 0;
      const batch = provider === nodeProvider ? 100 : 20;
      cases.push({
        name: `${provider.name} ${suite.name} seal+open 1200 B`,
        batch,
        fn: () => {
          for (let i = 0; i < batch; i++) {
            pn++;
            packet[0] = 0x41;
            keys.protect(packet, 0, 9, 2, pn, payloadEnd);
            keys.removeHeaderProtection(packet, 0, 9);
            if (keys.open(packet, 0, header, 1200, pn) < 0) throw new Error('open failed');
          }
        },
      });
      const mask = new Uint8Array(5);
      const hpBatch = 1000;
      cases.push({
        name: `${provider.name} ${suite.name} header protection mask`,
        batch: hpBatch,
        fn: () => {
          for (let i = 0; i < hpBatch; i++) {
            packet[20] = i;
            keys.hp.mask(packet.subarray(13, 29), mask);
          }
        },
      });
    }
  }
  // The alternative the node provider does not use: AES header protection through OpenSSL (one ECB cipher per epoch).
  const ecb = new OpenSslAesHeaderProtection('aes-128', new Uint8Array(16).fill(3));
  const sample = new Uint8Array(16);
  const out = new Uint8Array(5);
  cases.push({
    name: 'openssl aes-128-ecb header protection mask (not used)',
    batch: 1000,
    fn: () => {
      for (let i = 0; i < 1000; i++) {
        sample[0] = i;
        ecb.mask(sample, out);
      }
    },
  });
  return runCases('@gquic/crypto packet protection (per packet; seal+open includes applying and removing header protection)', cases);
}
