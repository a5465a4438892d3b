/**
 * Derivation under a budget: of the architectures whose predicted cost lies in [lo, hi], the most likely
 * under softmax(α) — max Σ_r log p[r, c_r] subject to lo ≤ offset + Σ_r cost[r, c_r] ≤ hi — for spaces
 * whose rows choose independently (NAS-Bench-201 edges, MBConv layers). Where no architecture is in
 * the band, the one nearest to it (then the most likely among those).
 *
 * The search's straight-through budget term steers α toward the budget, but an argmax flips in steps
 * and oscillates around a target (one op swap moves a cell's latency by 10–30% on small networks);
 * reading the architecture off α under the constraint is what FBNet-style hardware-aware searches do
 * when they sample architectures until one meets the constraint, done exactly here.
 *
 * Exact up to the cost grid: a dynamic programme over rows keeps, per bucket of accumulated cost (`bins`
 * buckets over the reachable range), the most likely partial choice; the final pick is checked against
 * the exact cost. Rows × bins × columns work: trivial next to a training step.
 */
export interface BudgetProblem {
  /** probabilities [rows][cols] (softmax(α)) */
  probs: readonly (readonly number[])[];
  /** cost[r·cols + c] of choosing column c in row r (fixed parts excluded) */
  cost: ArrayLike<number>;
  /** architecture-independent cost added to every choice */
  offset: number;
  lo: number;
  hi: number;
  /** per row, the columns that may be chosen (default all); e.g. without 'none' */
  allowed?: readonly (readonly number[])[];
  bins?: number;
}

export interface BudgetChoice {
  columns: number[];
  cost: number;
  logProb: number;
  /** whether lo ≤ cost ≤ hi */
  inBudget: boolean;
}

interface Partial {
  logProb: number;
  cost: number;
  columns: number[];
}

export function deriveUnderBudget(p: BudgetProblem): BudgetChoice {
  const rows = p.probs.length;
  const cols = rows ? p.probs[0].length : 0;
  const allowed = (r: number): readonly number[] => p.allowed?.[r] ?? [...Array(cols).keys()];
  const bins = p.bins ?? 2000;
  let maxCost = 0;
  for (let r = 0; r < rows; r++) maxCost += Math.max(0, ...allowed(r).map((c) => p.cost[r * cols + c]));
  const width = maxCost > 0 ? maxCost / bins : 1;
  const bucket = (c: number): number => Math.min(bins, Math.max(0, Math.round(c / width)));
  let states = new Map<number, Partial>([[0, { logProb: 0, cost: 0, columns: [] }]]);
  for (let r = 0; r < rows; r++) {
    const next = new Map<number, Partial>();
    for (const s of states.values()) {
      for (const c of allowed(r)) {
        const cost = s.cost + p.cost[r * cols + c];
        const logProb = s.logProb + Math.log(Math.max(p.probs[r][c], 1e-30));
        const b = bucket(cost);
        const best = next.get(b);
        if (!best || logProb > best.logProb) next.set(b, { logProb, cost, columns: [...s.columns, c] });
      }
    }
    states = next;
  }
  const distance = (s: Partial): number => {
    const total = p.offset + s.cost;
    return total < p.lo ? p.lo - total : total > p.hi ? total - p.hi : 0;
  };
  let pick: Partial | undefined;
  for (const s of states.values()) {
    if (!pick) pick = s;
    const [d, dp] = [distance(s), distance(pick)];
    if (d < dp || (d === dp && s.logProb > pick.logProb)) pick = s;
  }
  if (!pick) throw new Error('deriveUnderBudget: no rows');
  const total = p.offset + pick.cost;
  return { columns: pick.columns, cost: total, logProb: pick.logProb, inBudget: total >= p.lo && total <= p.hi };
}
