// `npm run interop`: runs every interop case and prints the matrix (peer × case → pass / fail / unsupported),
// also written to docs/interop.md between its generated-table markers. Run after `npm run setup`.

import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Unsupported, type InteropCase, type Outcome } from './common.js';
import { ngtcp2Cases } from './ngtcp2.js';
import { quicheCases } from './quiche.js';

const cases: InteropCase[] = [...quicheCases, ...ngtcp2Cases];
const rows: Array<{ peer: string; role: string; name: string; outcome: Outcome; ms: number; note: string }> = [];
for (const c of cases) {
  const t0 = performance.now();
  let outcome: Outcome = 'pass';
  let note = '';
  try {
    await c.run();
  } catch (e) {
    outcome = e instanceof Unsupported ? 'unsupported' : 'fail';
    note = (e as Error).message.split('\n')[0]!.slice(0, 120);
  }
  rows.push({ peer: c.peer, role: c.role === 'client' ? 'gquic client' : 'gquic server', name: c.name, outcome, ms: Math.round(performance.now() - t0), note });
  console.log(`${outcome.padEnd(11)} ${c.peer.padEnd(7)} ${c.role.padEnd(6)} ${c.name} (${rows.at(-1)!.ms} ms)${note ? ` — ${note}` : ''}`);
}

const table = [
  '| peer | our role | case | result | time |',
  '| --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.peer} | ${r.role} | ${r.name} | ${r.outcome}${r.note ? ` (${r.note})` : ''} | ${r.ms} ms |`),
].join('\n');
console.log(`\n${table}`);

const doc = join(dirname(fileURLToPath(import.meta.url)), '../../docs/interop.md');
const text = readFileSync(doc, 'utf8');
const begin = '<!-- interop-table:begin -->';
const end = '<!-- interop-table:end -->';
const updated = text.replace(new RegExp(`${begin}[\\s\\S]*${end}`), `${begin}\n${table}\n${end}`);
writeFileSync(doc, updated);
console.log(`\nwritten to docs/interop.md`);
process.exit(rows.some((r) => r.outcome === 'fail') ? 1 : 0);
