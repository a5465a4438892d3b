/**
 * Budgets on a space: derivation of the most likely architecture within target·(1 ± tolerance) of a
 * cost table (budget.ts), and its calibration against measurements on the attached adapter.
 *
 * A latency table sums per-op latencies; a whole network runs faster or slower than that sum (fusion,
 * launch gaps, caches, the machine's load when the table was measured), by ±5–15% on lavapipe. When
 * the adapter is attached, calibrateToTarget measures the derived network, rescales the table by
 * measured / predicted and derives again, a few rounds, keeping the architecture whose MEASURED
 * latency is nearest the target.
 */
import type { CostTerm } from './hardware-cost.js';
import { deriveUnderBudget } from './budget.js';
import type { DerivedArch, SpaceBinding } from './space-binding.js';

export interface BudgetInfo {
  /** the unconstrained argmax */
  argmax: string;
  lo: number;
  hi: number;
  /** the table's cost of the architecture (offset included), times `scale` */
  cost: number;
  inBudget: boolean;
  /** measured / table cost applied (1: the table as measured per op) */
  scale: number;
  /** with calibration: each round's architecture, predicted (scaled) and measured cost */
  rounds?: { archStr: string; predicted: number; measured: number }[];
  /** with calibration: the measured cost of the architecture returned */
  measured?: number;
}

/** The most likely architecture of `probs` whose cost, table·scale + offset·scale, lies in the target band. */
export function budgetDerive(space: SpaceBinding, probs: readonly (readonly number[])[], term: CostTerm,
  opts: { tolerance: number; excludeNone: boolean; scale?: number }): DerivedArch & { budget: BudgetInfo } {
  if (term.target === undefined || !term.table) throw new Error(`budgetDerive: the term ${term.name} has no target or table`);
  if (!space.fromColumns) throw new Error(`budgetDerive: the ${space.space} space does not choose rows independently`);
  const scale = opts.scale ?? 1;
  const allowed = Array.from({ length: space.rows }, (_, r) =>
    (space.allowed?.[r] ?? [...Array(space.cols).keys()]).filter((c) => !(opts.excludeNone && c === space.noneIndex)));
  const [lo, hi] = [term.target * (1 - opts.tolerance), term.target * (1 + opts.tolerance)];
  const cost = term.table.map((v) => v * scale);
  const pick = deriveUnderBudget({ probs, cost, offset: (term.offset ?? 0) * scale, lo, hi, allowed });
  const argmax = space.derive(probs, opts.excludeNone).archStr;
  return { ...space.fromColumns(pick.columns), budget: { argmax, lo, hi, cost: pick.cost, inBudget: pick.inBudget, scale } };
}

/**
 * Derive under the budget, measure, rescale the table by measured / predicted, repeat (≤ rounds);
 * returns the architecture whose measurement is nearest the target. `measure` times one architecture
 * on the adapter (a median over repeats).
 */
export async function calibrateToTarget(space: SpaceBinding, probs: readonly (readonly number[])[], term: CostTerm,
  opts: { tolerance: number; excludeNone: boolean; rounds?: number }, measure: (d: DerivedArch) => Promise<number>): Promise<DerivedArch & { budget: BudgetInfo }> {
  const target = term.target!;
  const rounds: BudgetInfo['rounds'] = [];
  let scale = 1;
  let best: { d: DerivedArch & { budget: BudgetInfo }; measured: number } | undefined;
  const seen = new Map<string, number>();
  for (let i = 0; i < (opts.rounds ?? 4); i++) {
    const d = budgetDerive(space, probs, term, { ...opts, scale });
    const measured = seen.get(d.archStr) ?? (await measure(d));
    seen.set(d.archStr, measured);
    rounds.push({ archStr: d.archStr, predicted: d.budget.cost, measured });
    if (!best || Math.abs(measured - target) < Math.abs(best.measured - target)) best = { d, measured };
    if (Math.abs(measured / target - 1) <= opts.tolerance) break;
    // the unscaled table predicts d.budget.cost / scale; measured / that is the next scale
    // clamped: one outlying measurement must not throw the next round to the far end of the space
    scale = Math.min(2, Math.max(0.5, measured / (d.budget.cost / scale)));
  }
  return { ...best!.d, budget: { ...best!.d.budget, rounds, measured: best!.measured } };
}
