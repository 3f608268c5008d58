// The interop matrix as tests: each case against the real peers (see conformance/interop/).

import { describe, it } from 'vitest';
import { Unsupported } from './interop/common.js';
import { ngtcp2Cases } from './interop/ngtcp2.js';
import { quicheCases } from './interop/quiche.js';

describe.each([
  ['quiche (@matrixai/quic)', quicheCases],
  ['ngtcp2', ngtcp2Cases],
] as const)('interop with %s', (_, cases) => {
  for (const c of cases) {
    it(`${c.role === 'client' ? 'our client' : 'our server'}: ${c.name}`, async (ctx) => {
      try {
        await c.run();
      } catch (e) {
        // A case the peer cannot run is recorded as unsupported (docs/interop.md), not passed.
        if (e instanceof Unsupported) ctx.skip(e.message);
        else throw e;
      }
    }, 180_000);
  }
});
