/**
 * Budgets on a space: derivation of the most likely architecture within target·(1 ± tolerance) of a
 * cost table (budget.ts), and its calibration against measurements on the attached adapter.
 *
 * A latency table sums per-op latencies; a whole network runs faster or slower than that sum (fusion,
 * launch gaps, caches, the machine's load when the table was measured), by ±5–15% on lavapipe. When
 * the adapter is attached, calibrateToTarget measures the derived network, rescales the table by
 * measured / predicted and derives again, a few rounds, then keeps the architecture whose MEASURED
 * latency is nearest the target, measuring the candidates together for that choice.
 */
import type { CostTerm } from './hardware-cost.js';
import { chooseUnderBudget } from './budget.js';
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
  /** with calibration, when the rounds gave several architectures: each one measured again, all together */
  together?: { archStr: string; measured: number }[];
  /** with calibration: the measured cost of the architecture returned (the joint measurement if any) */
  measured?: number;
  /** what `measured` and the rounds' costs come from: the attached adapter, or the cost model (deriveToModelTarget) */
  by?: 'adapter' | 'model';
}

/**
 * The most likely architecture of `probs` whose cost, table·scale + offset·scale, lies in the target band
 * (else the nearest): one option per derivation decision (the binding's choiceGroups), each costing the
 * table's entries it keeps — any space, DARTS's paired edges included.
 */
export function budgetDerive(space: SpaceBinding, probs: readonly (readonly number[])[], term: CostTerm,
  opts: { tolerance: number; excludeNone: boolean; scale?: number }): DerivedArch & { budget: BudgetInfo } {
  if (term.target === undefined || !term.table) throw new Error(`budgetDerive: the term ${term.name} has no target or table`);
  const table = term.table;
  if (table.length !== space.rows * space.cols) {
    throw new Error(`budgetDerive: the term ${term.name}'s table has ${table.length} entries; the ${space.space} space's α has ${space.rows}×${space.cols}`);
  }
  const scale = opts.scale ?? 1;
  const [lo, hi] = [term.target * (1 - opts.tolerance), term.target * (1 + opts.tolerance)];
  const choices = space.choiceGroups(probs, opts.excludeNone);
  const groups = choices.map((g) => g.map((o) => ({ cost: o.entries.reduce((a, i) => a + table[i] * scale, 0), logProb: o.logProb })));
  const pick = chooseUnderBudget({ groups, offset: (term.offset ?? 0) * scale, lo, hi });
  const argmax = space.derive(probs, opts.excludeNone).archStr;
  return { ...space.fromChoices(pick.picks.map((k, g) => choices[g][k])), budget: { argmax, lo, hi, cost: pick.cost, inBudget: pick.inBudget, scale } };
}

/**
 * Derive under the budget, measure, rescale the table by measured / predicted, repeat (≤ rounds).
 * The rounds are measured one after another, while the machine's state drifts; so when they produced
 * more than one architecture, all of them are measured again TOGETHER (interleaved, one session) and
 * that joint measurement picks the architecture nearest the target: the choice compares numbers taken
 * under the same conditions. `measure` times a list of architectures on the adapter in one interleaved
 * session and returns their measured costs in order.
 */
export async function calibrateToTarget(space: SpaceBinding, probs: readonly (readonly number[])[], term: CostTerm,
  opts: { tolerance: number; excludeNone: boolean; rounds?: number }, measure: (ds: DerivedArch[]) => Promise<number[]>): Promise<DerivedArch & { budget: BudgetInfo }> {
  const target = term.target!;
  const rounds: NonNullable<BudgetInfo['rounds']> = [];
  let scale = 1;
  const candidates = new Map<string, DerivedArch & { budget: BudgetInfo }>();
  for (let i = 0; i < (opts.rounds ?? 4); i++) {
    const d = budgetDerive(space, probs, term, { ...opts, scale });
    const known = rounds.find((r) => r.archStr === d.archStr);
    const measured = known ? known.measured : (await measure([d]))[0];
    rounds.push({ archStr: d.archStr, predicted: d.budget.cost, measured });
    if (!candidates.has(d.archStr)) candidates.set(d.archStr, d);
    if (Math.abs(measured / target - 1) <= opts.tolerance) break;
    // the unscaled table predicts d.budget.cost / scale; measured / that is the next scale
    // clamped: one outlying measurement must not throw the next round to the far end of the space
    scale = Math.min(2, Math.max(0.5, measured / (d.budget.cost / scale)));
  }
  const list = [...candidates.values()];
  const final = list.length > 1 ? await measure(list) : [rounds[0].measured];
  let best = 0;
  for (let k = 1; k < list.length; k++) if (Math.abs(final[k] - target) < Math.abs(final[best] - target)) best = k;
  const together = list.length > 1 ? list.map((d, k) => ({ archStr: d.archStr, measured: final[k] })) : undefined;
  return { ...list[best], budget: { ...list[best].budget, rounds, together, measured: final[best], by: 'adapter' } };
}

/**
 * An additive cost table for a cost that is a differentiable function f of the probabilities P [rows,
 * cols] (a GNN predictor): f's first-order expansion at `at`, f(P) ≈ offset + Σ table·P. Each row's
 * entries are taken relative to its 'none' entry, so a row that an architecture drops (a DARTS edge
 * outside a node's top 2: 'none') costs 0 in the table, as budgetDerive assumes.
 */
export function linearizedCost(space: Pick<SpaceBinding, 'rows' | 'cols' | 'noneIndex'>, at: ArrayLike<number>, value: number, grad: ArrayLike<number>): { table: Float32Array; offset: number } {
  const { rows, cols, noneIndex } = space;
  if (at.length !== rows * cols || grad.length !== rows * cols) throw new Error(`linearizedCost: want ${rows}×${cols} probabilities and gradient, got ${at.length} and ${grad.length}`);
  const table = new Float32Array(rows * cols);
  let offset = value;
  for (let r = 0; r < rows; r++) {
    const base = noneIndex >= 0 ? grad[r * cols + noneIndex] : 0;
    for (let c = 0; c < cols; c++) {
      table[r * cols + c] = grad[r * cols + c] - base;
      offset -= table[r * cols + c] * at[r * cols + c];
    }
  }
  return { table, offset };
}

/**
 * Derivation under a budget on a cost that only a model gives (a GNN predictor of another device's
 * latency): linearise the model at an architecture (linearizedCost: `linearize` returns the table and
 * offset there), derive the most likely architecture within the band of that table (budgetDerive), price
 * it with the model exactly, and linearise again at it; ≤ rounds. The architecture whose exact cost is
 * nearest the target wins; budget.measured is that exact cost (the model's, not a measurement).
 */
export async function deriveToModelTarget(space: SpaceBinding, probs: readonly (readonly number[])[], term: CostTerm,
  opts: { tolerance: number; excludeNone: boolean; rounds?: number },
  linearize: (d: DerivedArch) => Promise<{ table: Float32Array; offset: number }>, price: (d: DerivedArch) => Promise<number>): Promise<DerivedArch & { budget: BudgetInfo }> {
  const target = term.target!;
  const rounds: NonNullable<BudgetInfo['rounds']> = [];
  let at: DerivedArch = space.derive(probs, opts.excludeNone);
  let best: { d: DerivedArch & { budget: BudgetInfo }; cost: number } | undefined;
  for (let i = 0; i < (opts.rounds ?? 4); i++) {
    const d = budgetDerive(space, probs, { ...term, ...(await linearize(at)) }, opts);
    if (rounds.some((r) => r.archStr === d.archStr)) break; // the linearisation settled
    const cost = await price(d);
    rounds.push({ archStr: d.archStr, predicted: d.budget.cost, measured: cost });
    if (!best || Math.abs(cost - target) < Math.abs(best.cost - target)) best = { d, cost };
    if (Math.abs(cost / target - 1) <= opts.tolerance) break;
    at = d;
  }
  return { ...best!.d, budget: { ...best!.d.budget, rounds, measured: best!.cost, by: 'model' } };
}
