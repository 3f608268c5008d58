// `npm run bench [suite]`: the micro-benchmark suites. Run after `npm run setup` (they use the built packages).
import { benchCrypto } from './crypto.bench.js';
import { benchLoopbackScheduler } from './loopback-scheduler.bench.js';
import { benchQpack } from './qpack.bench.js';
import { benchQuic } from './quic.bench.js';
import { benchScheduler } from './scheduler.bench.js';
import { benchTls } from './tls.bench.js';
import { benchWire } from './wire.bench.js';

const suites: Record<string, () => Promise<unknown>> = { wire: benchWire, crypto: benchCrypto, tls: benchTls, quic: benchQuic, qpack: benchQpack, scheduler: benchScheduler, loopback: benchLoopbackScheduler };
const only = process.argv[2];
if (only !== undefined && suites[only] === undefined) {
  console.error(`unknown suite '${only}'; one of: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
for (const [name, run] of Object.entries(suites)) if (only === undefined || only === name) await run();
// Sockets and native handles of the loopback benchmarks may keep the loop alive.
process.exit(0);
