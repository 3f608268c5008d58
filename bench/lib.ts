// Shared benchmark plumbing: tinybench with batched iterations (one sample = `batch` operations, so the
// timer's resolution does not dominate sub-microsecond operations), reporting medians in ns per operation.

import { Bench } from 'tinybench';

export interface Case {
  name: string;
  /** Runs `batch` operations. */
  fn: () => void;
  batch: number;
}

export interface Row {
  case: string;
  'median ns/op': number;
  'p99 ns/op': number;
  'ops/s (median)': number;
  samples: number;
}

export async function runCases(title: string, cases: Case[], timeMs = Number(process.env['GQUIC_BENCH_MS'] ?? 1000)): Promise<Row[]> {
  const bench = new Bench({ time: timeMs, warmup: true });
  for (const c of cases) bench.add(c.name, c.fn);
  await bench.run();
  const rows: Row[] = [];
  for (const task of bench.tasks) {
    const c = cases.find((x) => x.name === task.name)!;
    const r = task.result as { state?: string; latency?: { p50?: number; p99?: number; samplesCount?: number } } | undefined;
    if (r?.latency?.p50 === undefined) throw new Error(`benchmark ${task.name} produced no result (${r?.state ?? 'none'})`);
    const median = (r.latency.p50 * 1e6) / c.batch;
    const p99 = ((r.latency.p99 ?? r.latency.p50) * 1e6) / c.batch;
    rows.push({
      case: c.name,
      'median ns/op': Math.round(median),
      'p99 ns/op': Math.round(p99),
      'ops/s (median)': Math.round(1e9 / median),
      samples: r.latency.samplesCount ?? 0,
    });
  }
  console.log(`\n${title}`);
  console.table(rows);
  return rows;
}
