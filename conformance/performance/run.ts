// `npm run performance`: runs the simulated scenarios of docs/performance.md and rewrites its tables (between
// the performance-table markers). Deterministic: the same numbers on every machine.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GAMING_BDP_CAP, PATH_1, PATH_3, claim1, claim2, claim3 } from './claims.js';

const f = (x: number, d = 1): string => (Number.isFinite(x) ? x.toFixed(d) : '—');

const t1: string[] = ['| scheduler | controller | Critical p50 / p99 (ms) | Health p50 / p99 (ms) | undelivered | Bulk Mbit/s |', '| --- | --- | --- | --- | --- | --- |'];
for (const cc of ['bbr', 'cubic'] as const) {
  for (const sched of ['priority', 'round-robin', 'fifo'] as const) {
    const r = claim1(sched, cc);
    const und = r.critical.undelivered + r.health.undelivered;
    const lb = und > 0 ? ' ≥' : '';
    t1.push(`| ${sched === 'priority' ? 'gquic (classes)' : sched} | ${cc} | ${f(r.critical.p50)} /${lb} ${f(r.critical.p99)} | ${f(r.health.p50)} /${lb} ${f(r.health.p99)} | ${und} of ${r.critical.count + r.health.count} | ${f(r.bulkMbps)} |`);
  }
}

const t2: string[] = ['| our Bulk upload with | game queueing delay p50 / p99 (ms) | game loss | Bulk Mbit/s | share of spare capacity |', '| --- | --- | --- | --- | --- |'];
const rows2: Array<[string, ReturnType<typeof claim2>]> = [
  ['NewReno', claim2('newreno')],
  ['CUBIC', claim2('cubic')],
  ['BBR', claim2('bbr')],
  ['gaming controller (maxGamingCwnd 32 KiB, default)', claim2('gaming')],
  [`gaming controller (maxGamingCwnd ${GAMING_BDP_CAP / 1024} KiB)`, claim2('gaming', GAMING_BDP_CAP)],
];
for (const [name, r] of rows2) t2.push(`| ${name} | ${f(r.delay.p50, 2)} / ${f(r.delay.p99, 2)} | ${f(100 * r.loss, 1)}% | ${f(r.bulkMbps)} | ${f((100 * r.bulkMbps) / r.spareMbps, 0)}% |`);

const t3: string[] = ['| controller | 0% loss | 1% loss | 3% loss |', '| --- | --- | --- | --- |'];
for (const [name, cc] of [['NewReno', 'newreno'], ['CUBIC', 'cubic'], ['BBR', 'bbr']] as const) t3.push(`| ${name} | ${f(claim3(cc, 0))} | ${f(claim3(cc, 0.01))} | ${f(claim3(cc, 0.03))} |`);

const tables: Record<string, string> = { '1': t1.join('\n'), '2': t2.join('\n'), '3': t3.join('\n') };
for (const [k, t] of Object.entries(tables)) console.log(`\nScenario ${k}\n${t}`);
const doc = join(dirname(fileURLToPath(import.meta.url)), '../../docs/performance.md');
let text = readFileSync(doc, 'utf8');
for (const [k, t] of Object.entries(tables)) text = text.replace(new RegExp(`<!-- performance-table-${k}:begin -->[\\s\\S]*<!-- performance-table-${k}:end -->`), `<!-- performance-table-${k}:begin -->\n${t}\n<!-- performance-table-${k}:end -->`);
writeFileSync(doc, text);
console.log(`\nwritten to docs/performance.md (paths: ${PATH_1.bandwidthBps / 1e6} Mbit/s ${PATH_1.rttMs} ms; ${PATH_3.bandwidthBps / 1e6} Mbit/s ${PATH_3.rttMs} ms)`);
