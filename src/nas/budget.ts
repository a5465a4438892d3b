/**
 * Derivation under a budget: of the architectures whose predicted cost lies in [lo, hi], the most likely
 * under softmax(α) — max Σ log p subject to lo ≤ offset + Σ cost ≤ hi. Where no architecture is in the
 * band, the one nearest to it (then the most likely among those).
 *
 * The general form is a multiple-choice knapsack: derivation is a list of independent decisions
 * (groups), each a choice among mutually exclusive options with a cost and a log-probability. In
 * NAS-Bench-201 and MBConv a group is one α row and an option one column (deriveUnderBudget); in DARTS a
 * group is one intermediate node and an option a pair of input edges with an op on each (the bindings'
 * choiceGroups, space-binding.ts).
 *
 * The search's straight-through budget term steers α toward the budget, but an argmax flips in steps
 * and oscillates around a target (one op swap moves a cell's latency by 10–30% on small networks);
 * reading the architecture off α under the constraint is what FBNet-style hardware-aware searches do
 * when they sample architectures until one meets the constraint, done exactly here.
 *
 * Exact up to the cost grid: a dynamic programme over groups keeps, per bucket of accumulated cost
 * (`bins` buckets over the reachable range), the most likely partial choice and a back-pointer to the
 * bucket it extends; the final pick is checked against its exact cost. Groups × bins × options work
 * (8 DARTS groups of ≤ 490 options, 2000 bins: a few ms).
 */

/** One option of a group: what choosing it adds to the cost and to Σ log p. */
export interface BudgetOption {
  cost: number;
  logProb: number;
}

export interface GroupedBudgetProblem {
  /** per group, its mutually exclusive options; exactly one is picked per group */
  groups: readonly (readonly BudgetOption[])[];
  /** architecture-independent cost added to every choice */
  offset: number;
  lo: number;
  hi: number;
  /** buckets of the accumulated-cost grid (default 2000) */
  bins?: number;
}

export interface GroupedBudgetChoice {
  /** per group, the index of the option picked */
  picks: number[];
  /** offset + Σ cost of the picked options, summed exactly */
  cost: number;
  logProb: number;
  /** whether lo ≤ cost ≤ hi */
  inBudget: boolean;
}

/**
 * One option per group maximising Σ logProb with lo ≤ offset + Σ cost ≤ hi; none in the band: the
 * nearest to it, then the most likely. Ties (same distance, same log-probability): the lower cost bucket,
 * and within a bucket the first option found (groups' options in their listed order).
 */
export function chooseUnderBudget(p: GroupedBudgetProblem): GroupedBudgetChoice {
  const bins = p.bins ?? 2000;
  if (!Number.isInteger(bins) || bins < 1) throw new Error(`chooseUnderBudget: bins must be a positive integer, got ${bins}`);
  p.groups.forEach((g, i) => {
    if (g.length === 0) throw new Error(`chooseUnderBudget: group ${i} of ${p.groups.length} has no options`);
  });
  // the grid spans every reachable accumulated cost (negative option costs widen it downward)
  let [low, high] = [0, 0];
  for (const g of p.groups) {
    low += Math.min(0, ...g.map((o) => o.cost));
    high += Math.max(0, ...g.map((o) => o.cost));
  }
  const width = high > low ? (high - low) / bins : 1;
  const bucket = (c: number): number => Math.min(bins, Math.max(0, Math.round((c - low) / width)));
  const size = bins + 1;
  // layer state: per bucket, the best partial's Σ logProb and exact Σ cost, and whether any partial is there
  let logProb = new Float64Array(size);
  let cost = new Float64Array(size);
  let reached = new Uint8Array(size);
  reached[bucket(0)] = 1;
  // back-pointers, per group and bucket: the option picked and the previous layer's bucket
  const option: Int32Array[] = [];
  const from: Int32Array[] = [];
  for (const g of p.groups) {
    const [nextLogProb, nextCost, nextReached] = [new Float64Array(size), new Float64Array(size), new Uint8Array(size)];
    const [opt, prev] = [new Int32Array(size), new Int32Array(size)];
    for (let b = 0; b < size; b++) {
      if (!reached[b]) continue;
      for (let k = 0; k < g.length; k++) {
        const c = cost[b] + g[k].cost;
        const lp = logProb[b] + g[k].logProb;
        const t = bucket(c);
        if (nextReached[t] && !(lp > nextLogProb[t])) continue;
        nextLogProb[t] = lp;
        nextCost[t] = c;
        nextReached[t] = 1;
        opt[t] = k;
        prev[t] = b;
      }
    }
    [logProb, cost, reached] = [nextLogProb, nextCost, nextReached];
    option.push(opt);
    from.push(prev);
  }
  const distance = (c: number): number => {
    const total = p.offset + c;
    return total < p.lo ? p.lo - total : total > p.hi ? total - p.hi : 0;
  };
  let end = -1;
  for (let b = 0; b < size; b++) {
    if (!reached[b]) continue;
    if (end < 0) end = b;
    const [d, dBest] = [distance(cost[b]), distance(cost[end])];
    if (d < dBest || (d === dBest && logProb[b] > logProb[end])) end = b;
  }
  const picks = new Array<number>(p.groups.length);
  for (let g = p.groups.length - 1, b = end; g >= 0; g--) {
    picks[g] = option[g][b];
    b = from[g][b];
  }
  // the exact cost and log-probability of the picks (the sums the programme carried, in the same order)
  let [total, lp] = [0, 0];
  picks.forEach((k, g) => {
    total += p.groups[g][k].cost;
    lp += p.groups[g][k].logProb;
  });
  total += p.offset;
  return { picks, cost: total, logProb: lp, inBudget: total >= p.lo && total <= p.hi };
}

/** The rows × columns case: one column per row, rows independent (NAS-Bench-201 edges, MBConv layers). */
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

/** chooseUnderBudget with one group per row and one option per allowed column (log p floored at 1e-30). */
export function deriveUnderBudget(p: BudgetProblem): BudgetChoice {
  const cols = p.probs.length ? p.probs[0].length : 0;
  const allowed = p.probs.map((_, r) => p.allowed?.[r] ?? [...Array(cols).keys()]);
  const groups = allowed.map((columns, r) => columns.map((c) => ({ cost: p.cost[r * cols + c], logProb: Math.log(Math.max(p.probs[r][c], 1e-30)) })));
  const pick = chooseUnderBudget({ groups, offset: p.offset, lo: p.lo, hi: p.hi, bins: p.bins });
  return { columns: pick.picks.map((k, r) => allowed[r][k]), cost: pick.cost, logProb: pick.logProb, inBudget: pick.inBudget };
}
