// The gaming-aware controller and the pacer, driven directly.

import { describe, expect, it } from 'vitest';
import { Cubic } from './cubic.js';
import { GamingController } from './gaming.js';
import { Pacer } from './pacer.js';
import { RttEstimator } from './rtt.js';

const MSS = 1200;

function rtt(min: number, latest: number): RttEstimator {
  const r = new RttEstimator();
  r.update(min, 0, true, 25_000, 0);
  r.latestRtt = latest;
  r.latestAdjustedRtt = latest;
  return r;
}

/** Acknowledges a window's worth at `latest` RTT, one round at `now`. */
function round(g: GamingController, now: number, r: RttEstimator): number {
  const n = Math.max(1, Math.floor(g.window / MSS));
  for (let i = 0; i < n; i++) g.onPacketSent(now, MSS, n * MSS);
  for (let i = 0; i < n; i++) g.onPacketAcked(now + 20_000 + i, now, MSS, r, false);
  return now + 20_000 + n;
}

describe('GamingController', () => {
  it('detects a session from telemetry above gamingThresholdPps and ends it after gamingSessionTimeout', () => {
    const g = new GamingController(new Cubic(MSS), { gamingThresholdPps: 100, gamingSessionTimeout: 1000 });
    expect(g.gamingActive).toBe(false);
    for (let i = 0; i < 90; i++) g.onGamingPacket(1_000_000 + i * 10_000); // 100 pps but only 90 in the second
    expect(g.gamingActive).toBe(false);
    for (let i = 0; i < 150; i++) g.onGamingPacket(2_000_000 + i * 5_000); // 200 pps
    expect(g.gamingActive).toBe(true);
    g.onPacketSent(2_750_000 + 1_000_000 + 1, MSS, MSS); // time passes with no telemetry
    expect(g.gamingActive).toBe(false);
    g.setGamingSession(true, 5_000_000);
    expect(g.gamingActive).toBe(true);
  });

  it('caps the window at maxGamingCwnd and backs off when the queueing delay exceeds the target', () => {
    const g = new GamingController(new Cubic(MSS), { maxGamingCwnd: 32768, targetGamingRtt: 5 });
    g.setGamingSession(true, 0);
    let now = 1_000_000;
    const calm = rtt(20_000, 20_500);
    for (let i = 0; i < 30; i++) now = round(g, now, calm);
    expect(g.window).toBe(32768);
    // 8 ms of queueing: over the 2.5 ms target, the window shrinks.
    const queued = rtt(20_000, 28_000);
    const before = g.window;
    for (let i = 0; i < 10; i++) now = round(g, now, queued);
    expect(g.window).toBeLessThan(before);
    expect(g.metrics()).toMatchObject({ phase: 'gaming', gaming: 1 });
  });

  it('the base controller is frozen during a session and resumes where it was, without a restart', () => {
    const base = new Cubic(MSS, { hystart: false });
    const g = new GamingController(base, { maxGamingCwnd: 32768 });
    let now = 1_000_000;
    const r = rtt(20_000, 20_000);
    for (let i = 0; i < 6; i++) now = round(g, now, r); // base grows in slow start
    const grown = base.window;
    expect(grown).toBeGreaterThan(32768);
    g.setGamingSession(true, now);
    for (let i = 0; i < 10; i++) now = round(g, now, r);
    expect(base.window).toBe(grown);
    expect(g.window).toBeLessThanOrEqual(32768);
    g.setGamingSession(false, now);
    expect(g.window).toBe(grown);
  });
});

describe('Pacer', () => {
  it('lets a burst go, then spaces packets at the rate', () => {
    const p = new Pacer(MSS, 10);
    const rate = 1_200_000; // 1000 packets/s
    let now = 1_000_000;
    let sent = 0;
    // The burst: 10 packets at once.
    while (p.nextSendTime(now, MSS, rate, 1 << 20) === now) {
      p.onPacketSent(MSS);
      sent++;
    }
    expect(sent).toBe(10);
    const next = p.nextSendTime(now, MSS, rate, 1 << 20);
    expect(next - now).toBeGreaterThan(0);
    expect(next - now).toBeLessThanOrEqual(1000);
    // Then one packet per ms.
    now = next;
    expect(p.nextSendTime(now, MSS, rate, 1 << 20)).toBe(now);
    expect(p.nextSendTime(now, MSS, Number.POSITIVE_INFINITY, 1 << 20)).toBe(now);
  });
});
