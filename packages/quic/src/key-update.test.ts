// RFC 9001 §6 key updates on the simulated network.

import { describe, expect, it } from 'vitest';
import { OneRttKeys, PacketKeys, TLS_AES_128_GCM_SHA256, nodeProvider } from '@gquic/crypto';
import { QUIC_V1, TransportErrorCode } from '@gquic/wire';
import { QuicPair, patternBytes, sendOneWay } from '@gquic/testkit';
import { KeyUpdate } from './key-update.js';

const MS = 1000;

function transfer(p: QuicPair, size: number, during?: () => void): boolean {
  const data = patternBytes(size, 11);
  const r = sendOneWay(p, data, { maxUs: 120_000_000, ...(during !== undefined ? { during } : {}) });
  return r.done && r.received.equals(data);
}

describe('key update (RFC 9001 §6)', () => {
  it('an update asked for mid-transfer is followed by the peer; data stays intact', () => {
    const p = new QuicPair();
    expect(p.handshake()).toBe(true);
    let asked = false;
    expect(
      transfer(p, 500_000, () => {
        if (!asked && p.conn.stats().packetsSent > 100) {
          p.conn.updateKeys();
          asked = true;
        }
      }),
    ).toBe(true);
    expect(p.conn.keyUpdates).toBe(1);
    expect(p.serverConn!.keyUpdates).toBe(1);
  });

  it('updates repeatedly by packet count, under loss and reordering, from both sides', () => {
    const link = { delayUs: 10 * MS, loss: 0.03, reorder: 0.1, reorderDelayUs: 5 * MS };
    const p = new QuicPair({ seed: 5, clientToServer: link, serverToClient: link, transport: { keyUpdateIntervalPackets: 150 } });
    expect(p.handshake()).toBe(true);
    expect(transfer(p, 2_000_000)).toBe(true);
    expect(p.conn.keyUpdates).toBeGreaterThan(5);
    expect(p.serverConn!.keyUpdates).toBe(p.conn.keyUpdates);
  });

  it('refuses a peer that updates twice before we acknowledged its first update (KEY_UPDATE_ERROR)', () => {
    const secret = (n: number): PacketKeys => PacketKeys.fromSecret(nodeProvider, QUIC_V1, TLS_AES_128_GCM_SHA256, new Uint8Array(32).fill(n));
    const ours = new KeyUpdate(secret(1), secret(2));
    const peerWrite = new OneRttKeys(secret(2), secret(1)); // the peer's view: it writes with secret(1)
    // Phase 0 traffic both ways, acknowledged.
    expect(ours.onDecrypted(ours.readKeysFor(0, 1).which, 1, Infinity)).toBe(false);
    ours.onPacketSent(1, true);
    // The peer updates: its packet 2 (phase 1) opens with our next keys and we follow.
    peerWrite.update(Infinity);
    const sel = ours.readKeysFor(peerWrite.phase, 2);
    expect(sel.which).toBe('next');
    expect(sel.keys.secret).toEqual(peerWrite.write.secret);
    expect(ours.onDecrypted('next', 2, Infinity)).toBe(true);
    expect(ours.phase).toBe(1);
    // It updates again (phase 0) before we sent any ACK in phase 1.
    expect(() => ours.onDecrypted(ours.readKeysFor(0, 3).which, 3, Infinity)).toThrow(expect.objectContaining({ code: TransportErrorCode.KEY_UPDATE_ERROR }));
    // Had we acknowledged in phase 1, the second update would have been fine.
    const ok = new KeyUpdate(secret(1), secret(2));
    ok.onDecrypted('current', 1, Infinity);
    ok.onDecrypted('next', 2, Infinity);
    ok.onPacketSent(10, true);
    expect(ok.onDecrypted(ok.readKeysFor(0, 3).which, 3, Infinity)).toBe(true);
    expect(ok.keys.generation).toBe(2);
  });

  it('may initiate only once the current phase is acknowledged; old packets use the previous keys', () => {
    const secret = (n: number): PacketKeys => PacketKeys.fromSecret(nodeProvider, QUIC_V1, TLS_AES_128_GCM_SHA256, new Uint8Array(32).fill(n));
    const ku = new KeyUpdate(secret(1), secret(2));
    ku.onPacketSent(5, false);
    expect(ku.canInitiate(true)).toBe(false);
    ku.onAckReceived(5);
    expect(ku.canInitiate(false)).toBe(false); // handshake not confirmed
    expect(ku.canInitiate(true)).toBe(true);
    ku.onDecrypted('current', 7, Infinity);
    ku.initiate(1000);
    expect(ku.canInitiate(true)).toBe(false);
    expect(ku.readKeysFor(0, 8).which).toBe('previous'); // nothing received in phase 1 yet: reordered old packets
    ku.onDecrypted('current', 9, 1000);
    expect(ku.readKeysFor(0, 8).which).toBe('previous');
    expect(ku.readKeysFor(0, 12).which).toBe('next');
  });

  it('closes with AEAD_LIMIT_REACHED once too many 1-RTT packets fail authentication', () => {
    const p = new QuicPair({ transport: { integrityLimit: 20 }, clientToServer: { delayUs: 5 * MS, corrupt: 0.5 } });
    expect(p.handshake(20_000_000)).toBe(true);
    const id = p.conn.openStream(true)!;
    p.conn.streamWrite(id, new Uint8Array(200_000), true);
    p.run(() => p.serverEvents.some((e) => e.type === 'closed'), 60_000_000);
    expect(p.serverEvents.find((e) => e.type === 'closed')).toMatchObject({ errorCode: TransportErrorCode.AEAD_LIMIT_REACHED });
  });
});
