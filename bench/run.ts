// `npm run bench`: every micro-benchmark suite. Run after `npm run setup` (benchmarks use the built packages).
import { benchWire } from './wire.bench.js';

const only = process.argv[2];
if (only === undefined || only === 'wire') await benchWire();
