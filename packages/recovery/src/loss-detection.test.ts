import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '@gquic/wire';
import { LossDetection } from './loss-detection.js';
import { NewReno } from './new-reno.js';
import { SPACE_APPLICATION, SPACE_HANDSHAKE, SPACE_INITIAL, SentPacket } from './sent-packet.js';

const MS = 1000;

function setup(): LossDetection<string> {
  const ld = new LossDetection<string>(new NewReno(1200));
  ld.handshakeConfirmed = true;
  ld.peerCompletedAddressValidation = true;
  ld.hasHandshakeKeys = true;
  ld.maxAckDelayUs = 0;
  return ld;
}

const send = (ld: LossDetection<string>, pn: number, t: number, space = SPACE_APPLICATION as 0 | 1 | 2): void =>
  ld.onPacketSent(space, new SentPacket(pn, t, 1200, true, true, false, `p${pn}`));

describe('loss detection (RFC 9002 §6)', () => {
  it('acknowledges, samples RTT and declares loss by packet threshold', () => {
    const ld = setup();
    for (let pn = 0; pn < 6; pn++) send(ld, pn, pn * MS);
    expect(ld.bytesInFlight).toBe(7200);
    const out = ld.onAckReceived(SPACE_APPLICATION, [5, 4], 0, 50 * MS);
    expect(out.acked.map((p) => p.frames)).toEqual(['p4', 'p5']);
    expect(out.rttSampled).toBe(true);
    expect(ld.rtt.latestRtt).toBe(45 * MS);
    // 0, 1 and 2 are 3 or more below the largest acknowledged: lost. 3 is not yet.
    expect(out.lost.map((p) => p.pn)).toEqual([0, 1, 2]);
    expect(ld.bytesInFlight).toBe(1200);
    expect(ld.packetsLost).toBe(3);
    expect(ld.cc.window).toBe((12000 + 2400) / 2); // slow start on the ACK, then halved once for the losses
  });

  it('arms a time-threshold loss timer for a packet just below the largest acknowledged', () => {
    const ld = setup();
    send(ld, 0, 0);
    send(ld, 1, 1 * MS);
    ld.onAckReceived(SPACE_APPLICATION, [1, 1], 0, 100 * MS);
    // rtt 99 ms: loss delay 9/8 * 99 ms after packet 0 was sent.
    const deadline = ld.deadline(100 * MS);
    expect(deadline).toBeCloseTo((9 / 8) * 99 * MS);
    const t = ld.onTimeout(deadline);
    expect(t.kind === 'loss' && t.lost.map((p) => p.pn)).toEqual([0]);
  });

  it('backs off the probe timeout exponentially and resets it on an ACK', () => {
    const ld = setup();
    send(ld, 0, 0);
    ld.onAckReceived(SPACE_APPLICATION, [0, 0], 0, 100 * MS); // rtt 100 ms, var 50 ms
    send(ld, 1, 100 * MS);
    const pto = ld.deadline(100 * MS);
    expect(pto).toBe(100 * MS + 100 * MS + 4 * 50 * MS);
    expect(ld.onTimeout(pto)).toEqual({ kind: 'pto', space: SPACE_APPLICATION });
    expect(ld.deadline(pto)).toBe(100 * MS + 2 * 300 * MS);
    ld.onAckReceived(SPACE_APPLICATION, [1, 1], 0, pto + 1);
    expect(ld.ptoCount).toBe(0);
  });

  it('refuses an ACK of a packet never sent (PROTOCOL_VIOLATION)', () => {
    const ld = setup();
    send(ld, 0, 0);
    expect(() => ld.onAckReceived(SPACE_APPLICATION, [7, 7], 0, 10)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
  });

  it('detects persistent congestion and collapses the window', () => {
    const ld = setup();
    send(ld, 0, 0);
    ld.onAckReceived(SPACE_APPLICATION, [0, 0], 0, 10 * MS); // rtt 10 ms: duration 3 * (10 + 20) = 90 ms
    for (let pn = 1; pn <= 10; pn++) send(ld, pn, 10 * MS + pn * 20 * MS);
    send(ld, 11, 300 * MS);
    send(ld, 12, 301 * MS);
    send(ld, 13, 302 * MS);
    ld.onAckReceived(SPACE_APPLICATION, [13, 13], 0, 310 * MS);
    expect(ld.cc.window).toBe(2400);
  });

  it('does not arm an application PTO before the handshake is confirmed, and discards spaces', () => {
    const ld = setup();
    ld.handshakeConfirmed = false;
    send(ld, 0, 0, SPACE_INITIAL);
    send(ld, 0, 0, SPACE_HANDSHAKE);
    send(ld, 0, 0, SPACE_APPLICATION);
    expect(ld.deadline(0)).toBe(333_000 + 4 * 166_500);
    ld.discardSpace(SPACE_INITIAL);
    ld.discardSpace(SPACE_HANDSHAKE);
    expect(ld.bytesInFlight).toBe(1200);
    expect(ld.deadline(0)).toBe(Infinity);
    ld.handshakeConfirmed = true;
    expect(ld.deadline(0)).toBe(333_000 + 4 * 166_500);
  });

  it('a client with nothing in flight still probes until the server has validated its address (anti-deadlock)', () => {
    const ld = setup();
    ld.peerCompletedAddressValidation = false;
    ld.hasHandshakeKeys = false;
    expect(ld.deadline(1000)).toBe(1000 + 999_000);
    expect(ld.onTimeout(1000 + 999_000)).toEqual({ kind: 'pto', space: SPACE_INITIAL });
  });
});

describe('NewReno (RFC 9002 §7.3)', () => {
  it('grows by acknowledged bytes in slow start and by one datagram per window afterwards', () => {
    const cc = new NewReno(1200);
    const rtt = setup().rtt;
    expect(cc.window).toBe(12000);
    cc.onPacketAcked(10, 0, 1200, rtt, false);
    expect(cc.window).toBe(13200);
    cc.onCongestionEvent(20, 15);
    expect(cc.window).toBe(6600);
    expect(cc.metrics().phase).toBe('recovery');
    cc.onCongestionEvent(30, 18); // sent before recovery started: no second reduction
    expect(cc.window).toBe(6600);
    cc.onPacketAcked(40, 10, 1200, rtt, false); // sent before recovery: no growth
    expect(cc.window).toBe(6600);
    for (let i = 0; i < 6; i++) cc.onPacketAcked(50, 25, 1100, rtt, false);
    expect(cc.window).toBe(6600 + 1200);
    expect(cc.metrics().phase).toBe('congestion_avoidance');
    cc.onPacketAcked(60, 25, 1200, rtt, true);
    expect(cc.window).toBe(7800); // application limited
  });
});
