import { describe, expect, it } from 'vitest';
import { main } from './index.js';

describe('gquic loopback', () => {
  it('echoes data through a real QUIC connection on 127.0.0.1 and reports it', async () => {
    let out = '';
    const code = await main(['loopback', '--mb', '1'], { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => undefined } });
    expect(code).toBe(0);
    expect(out).toMatch(/SHA-256\s+match/);
    expect(out).toMatch(/echoed\s+1\.0 MB each way/);
  });

  it('refuses a bad --mb', async () => {
    let err = '';
    const code = await main(['loopback', '--mb', 'lots'], { stdout: { write: () => undefined }, stderr: { write: (s: string) => (err += s) } });
    expect(code).toBe(1);
    expect(err).toContain('--mb');
  });
});
