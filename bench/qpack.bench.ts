// QPACK: compressed sizes of the qifs corpora (../shared/data/qifs) for each table size and blocked-streams
// limit, next to the uncompressed size, and encode/decode speed. `npm run bench -- qpack --write-docs` also
// rewrites the table in docs/qpack.md. Runs on the built package (dist/).

import { readFileSync, writeFileSync } from 'node:fs';
import { QpackDecoder, QpackEncoder, parseQif, roundTripSections, type FieldLine } from '@gquic/http3';
import { runCases, type Row } from './lib.js';

const QIFS = new URL('../../shared/data/qifs/', import.meta.url);
const CORPORA = ['netbsd.qif', 'fb-req.qif', 'fb-resp.qif'];
const CONFIGS: Array<[capacity: number, blocked: number]> = [
  [0, 0],
  [256, 0],
  [256, 100],
  [4096, 0],
  [4096, 100],
  [16384, 0],
  [16384, 100],
];

function load(file: string): FieldLine[][] {
  return parseQif(readFileSync(new URL(file, QIFS), 'latin1'));
}

export function qpackSizeTable(): string {
  const head = `| corpus | sections | uncompressed | ${CONFIGS.map(([c, b]) => `${c} / ${b}`).join(' | ')} |`;
  const rule = `| --- | --- | --- | ${CONFIGS.map(() => '---').join(' | ')} |`;
  const rows = CORPORA.map((file) => {
    const sections = load(file);
    const cells = CONFIGS.map(([c, b]) => {
      const r = roundTripSections(sections, c, b);
      const total = r.sections + r.encoderStream;
      return `${total} (${((100 * total) / r.plain).toFixed(1)}%)`;
    });
    const plain = roundTripSections(sections, 0, 0).plain;
    return `| ${file} | ${sections.length} | ${plain} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

export async function benchQpack(): Promise<Row[]> {
  const table = qpackSizeTable();
  console.log('\nQPACK compressed size (field sections + encoder stream, octets and % of uncompressed), per table capacity / blocked streams');
  console.log(table);
  if (process.argv.includes('--write-docs')) {
    const url = new URL('../docs/qpack.md', import.meta.url);
    const doc = readFileSync(url, 'utf8');
    writeFileSync(url, doc.replace(/<!-- qpack-sizes:begin -->[\s\S]*<!-- qpack-sizes:end -->/, `<!-- qpack-sizes:begin -->\n${table}\n<!-- qpack-sizes:end -->`));
    console.log('docs/qpack.md updated');
  }
  const req = load('fb-req.qif');
  const BATCH = req.length;
  const encodeAll = (capacity: number): (() => void) => () => {
    const e = new QpackEncoder({ maxTableCapacity: capacity });
    e.applyPeerSettings(capacity, 100);
    const d = new QpackDecoder({ maxTableCapacity: capacity, maxBlockedStreams: 100 });
    for (let i = 0; i < req.length; i++) {
      const block = e.encode(4 * i, req[i]!);
      const es = e.takeEncoderStream();
      if (es !== undefined) d.onEncoderStream(es);
      d.decode(4 * i, block);
      const ds = d.takeDecoderStream();
      if (ds !== undefined) e.onDecoderStream(ds);
    }
  };
  return runCases(`QPACK encode + decode per field section (fb-req.qif, ${BATCH} sections)`, [
    { name: 'static table only', fn: encodeAll(0), batch: BATCH },
    { name: 'dynamic table 4096', fn: encodeAll(4096), batch: BATCH },
  ]);
}
