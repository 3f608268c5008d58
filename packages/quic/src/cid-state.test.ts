import { describe, expect, it } from 'vitest';
import { TransportErrorCode } from '@gquic/wire';
import { LocalCids, PeerCids } from './cid-state.js';

const cid = (n: number): Uint8Array => new Uint8Array(8).fill(n);

describe('connection IDs (RFC 9000 §5.1)', () => {
  it('issues up to the limit and replaces retired ones', () => {
    let n = 10;
    const l = new LocalCids(cid(1), () => ({ cid: cid(n++), resetToken: new Uint8Array(16) }));
    l.fill(3);
    expect(l.active.map((c) => c.seq)).toEqual([0, 1, 2]);
    expect(l.pending).toEqual([1, 2]);
    expect(() => l.retire(5, cid(1), 0x19)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    expect(() => l.retire(0, cid(1), 0x19)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
    l.retire(0, cid(10), 0x19);
    l.fill(3);
    expect(l.active.map((c) => c.seq)).toEqual([1, 2, 3]);
  });

  it('honours retire_prior_to and the active_connection_id_limit', () => {
    const p = new PeerCids(cid(1), 3);
    p.onNew(1, 0, cid(2), new Uint8Array(16), 0x18);
    p.onNew(2, 0, cid(3), new Uint8Array(16), 0x18);
    expect(() => p.onNew(3, 0, cid(4), new Uint8Array(16), 0x18)).toThrow(expect.objectContaining({ code: TransportErrorCode.CONNECTION_ID_LIMIT_ERROR }));
    const q = new PeerCids(cid(1), 3);
    q.onNew(1, 0, cid(2), new Uint8Array(16), 0x18);
    q.onNew(2, 2, cid(3), new Uint8Array(16), 0x18);
    expect(q.pendingRetire.sort()).toEqual([0, 1]);
    expect(q.current.seq).toBe(2);
    expect(() => q.onNew(2, 2, cid(9), new Uint8Array(16), 0x18)).toThrow(expect.objectContaining({ code: TransportErrorCode.PROTOCOL_VIOLATION }));
  });
});
