// Property-test budgets. The wire package's properties add up to well over 100,000 generated cases per run
// (see each test's `numRuns`); GQUIC_FC_SCALE multiplies them (e.g. 10 for a long fuzzing session).

const scale = Number(process.env['GQUIC_FC_SCALE'] ?? '1');

/** `n` generated cases, scaled by GQUIC_FC_SCALE. */
export function runs(n: number): number {
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/** A fixed seed per run when GQUIC_FC_SEED is set, to replay a failure. */
export function seed(): { seed?: number } {
  const s = process.env['GQUIC_FC_SEED'];
  return s === undefined ? {} : { seed: Number(s) };
}
