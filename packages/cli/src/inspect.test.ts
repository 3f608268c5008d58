import { describe, expect, it } from 'vitest';
import { EXAMPLES } from './examples.js';
import { main } from './index.js';
import { inspect } from './inspect.js';

function capture(): { io: { stdout: { write(s: string): void }; stderr: { write(s: string): void } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (s: string) => void (out += s) }, stderr: { write: (s: string) => void (err += s) } },
    out: () => out,
    err: () => err,
  };
}

describe('gquic inspect', () => {
  it('decodes the RFC 9001 client Initial: header, CRYPTO + PADDING, and the ClientHello transport parameters', () => {
    const ex = EXAMPLES['rfc9001-client-initial']!;
    const r = inspect(ex.datagram, ex.payload, 0);
    expect(r.datagramLength).toBe(1200);
    expect(r.packets).toHaveLength(1);
    expect(r.packets[0]!.header).toMatchObject({ packet_type: 'initial', version: '0x00000001', dcid: '8394c8f03e515708', length: 1182, packet_number_offset: 18 });
    expect(r.frames?.map((f) => f['frame_type'])).toEqual(['crypto', 'padding']);
    expect(r.transportParameters).toMatchObject({ maxIdleTimeout: 30000, initialMaxStreamsBidi: 16, initialSourceConnectionId: '8394c8f03e515708' });
  });

  it('decodes every example without error', () => {
    for (const [name, ex] of Object.entries(EXAMPLES)) {
      const r = inspect(ex.datagram, ex.payload, ex.shortDcidLength ?? 0);
      expect(r.packets.every((p) => p.error === undefined), name).toBe(true);
    }
  });

  it('prints text and JSON, and exits 0', async () => {
    const c = capture();
    expect(await main(['inspect', '--example', 'rfc9369-retry'], c.io)).toBe(0);
    expect(c.out()).toContain('packet_type: retry');
    expect(c.out()).toContain('version: 0x6b3343cf');
    const j = capture();
    expect(await main(['inspect', '--json', '--example', 'rfc9001-server-initial'], j.io)).toBe(0);
    const parsed = JSON.parse(j.out()) as { frames: Array<{ frame_type: string }> };
    expect(parsed.frames.map((f) => f.frame_type)).toEqual(['ack', 'crypto']);
  });

  it('reports bad input and unknown commands with a non-zero exit code', async () => {
    const c = capture();
    expect(await main(['inspect', 'zz'], c.io)).toBe(1);
    expect(c.err()).toContain('invalid hex');
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(await main(['inspect', '--example', 'nope'], c.io)).toBe(1);
  });
});
