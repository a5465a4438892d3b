/**
 * Samplers decide, per step and per edge, which candidate ops run and with what (differentiable)
 * weights. An edge's output is mixedSum(outputs of the executed ops, weights).
 *
 * - mixture (DARTS): all candidates run; weights = softmax(α_e). Memory ~K paths.
 * - gumbel (FBNet soft / GDAS hard): y = softmax((α_e + g)/τ), g ~ Gumbel (GPU RNG). Soft: all run with
 *   weights y. Hard: only k = argmax y runs, weight = onehot(k) − sg(y) + y (value 1, gradient via y).
 * - binary (ProxylessNAS): two distinct ops {a, b} ~ multinomial(p) without replacement both run; the
 *   active one c ~ softmax(α_{a,b}) gets gate value 1 and the other 0 (straight-through), so
 *   ∂L/∂α_i = Σ_{j∈{a,b}} ∂L/∂g_j p'_j (δ_ij − p'_i) — ProxylessNAS's estimator restricted to the pair.
 * - ordered (SurgeNAS-style ordered single-path sampling, designed here where the abstract is silent):
 *   each edge walks a fresh random permutation of its K candidates every K steps ("cycle"), so every
 *   op is trained exactly once per cycle (fairness) and only ONE path executes (memory of one path).
 *   The executed op k gets weight w = (onehot(k) − sg(p) + p)_k with its gradient scaled by K:
 *       value(w) = 1,   ∂w/∂α_i = K · p_k (δ_ik − p_i).
 *   Derivation: the exact mixture gradient is ∂L/∂α_i = Σ_j g_j p_j (δ_ij − p_i) with g_j = ⟨∂L/∂out,
 *   o_j(x)⟩. The single-path estimate for sampled k is K·g_k p_k (δ_ik − p_i); averaged over a cycle
 *   (each k once, i.e. sampling probability 1/K) it equals Σ_k g_k p_k (δ_ik − p_i), the exact mixture
 *   gradient — exactly so when g_j does not depend on which path ran (a loss linear in the edge output,
 *   tested in test/nas/samplers.test.ts), and approximately in a deep network, as in every single-path
 *   method. 'none' sampled: the edge outputs zeros, g_none = 0, so its term is 0, as in the mixture.
 *
 * Host decisions (which op runs) need probabilities for hard gumbel and binary: one readback of the
 * [E, K] probabilities per step (as GDAS/ProxylessNAS do with .item()); mixture, soft gumbel and ordered
 * need none.
 */
import { seededRandom } from '../tensor/host-random.js';
import type { Tensor } from '../tensor/tensor.js';
import { gather, oneHotST } from '../ops/select.js';
import { softmax } from '../ops/softmax.js';
import { gumbel } from '../ops/rng.js';
import { lincomb, scale } from '../ops/elementwise.js';
import { reshape } from '../ops/shape.js';

/** softmax of a vector [n] */
function softmaxVec(v: Tensor): Tensor {
  return reshape(softmax(reshape(v, [1, v.size])), [v.size]);
}

export const SAMPLERS = ['ordered', 'gumbel', 'binary', 'mixture'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** What one edge runs this step: candidate indices and their weights ([n] tensor, differentiable in α). */
export interface EdgePlan {
  ops: number[];
  weights: Tensor;
  /** one op whose weight's value is exactly 1 (straight-through): the edge output is the op output itself */
  unit?: boolean;
}

export interface SamplerContext {
  /** α [E, K] (a parameter) */
  alpha: Tensor;
  /** softmax(α) [E, K], computed once per step */
  probs: Tensor;
  /** probabilities read back, when the sampler asked for them (needsProbs) */
  probsHost?: Float32Array;
  step: number;
  E: number;
  K: number;
  /** indices of candidates that are the 'none' op (not executed by all-path samplers) */
  noneIndex: number;
  /**
   * per row, the columns that may run (default: all K). A blocked column must also have probability 0
   * (the search adds a −1e4 logit bias to it), so weights and gradients ignore it.
   */
  allowed?: readonly (readonly number[])[];
}

/** the columns row e may run */
export function rowChoices(ctx: Pick<SamplerContext, 'K' | 'allowed'>, e: number): readonly number[] {
  return ctx.allowed?.[e] ?? [...Array(ctx.K).keys()];
}

export interface Sampler {
  readonly name: SamplerName;
  /** true when the host must read the step's probabilities to decide (one sync per step) */
  readonly needsProbs: boolean;
  /** weights source for the step: gumbel replaces softmax(α) by softmax((α+g)/τ) */
  stepProbs(ctx: Omit<SamplerContext, 'probs' | 'probsHost'>): Tensor;
  plan(ctx: SamplerContext, e: number): EdgePlan;
  /** serialisable state (for checkpoints): permutations, RNG counters */
  state(): unknown;
  loadState(s: unknown): void;
}

function rowIndices(e: number, K: number, ops: readonly number[]): number[] {
  return ops.map((k) => e * K + k);
}

function argmax(a: ArrayLike<number>, off: number, n: number): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[off + i] > a[off + best]) best = i;
  return best;
}

export class MixtureSampler implements Sampler {
  readonly name: SamplerName = 'mixture';
  readonly needsProbs = false;
  stepProbs(ctx: Omit<SamplerContext, 'probs' | 'probsHost'>): Tensor {
    return softmax(ctx.alpha);
  }
  plan(ctx: SamplerContext, e: number): EdgePlan {
    const ops = rowChoices(ctx, e).filter((k) => k !== ctx.noneIndex);
    return { ops, weights: gather(ctx.probs, rowIndices(e, ctx.K, ops)) };
  }
  state(): unknown {
    return {};
  }
  loadState(): void {}
}

export class GumbelSampler implements Sampler {
  readonly name: SamplerName = 'gumbel';
  get needsProbs(): boolean {
    return this.hard;
  }
  constructor(private readonly opts: { hard: boolean; tau: (step: number) => number; seed: number }) {}
  get hard(): boolean {
    return this.opts.hard;
  }
  stepProbs(ctx: Omit<SamplerContext, 'probs' | 'probsHost'>): Tensor {
    const dev = ctx.alpha.dev;
    const g = gumbel(dev, ctx.alpha.shape, this.opts.seed, ctx.step);
    const tau = this.opts.tau(ctx.step);
    return softmax(scale(lincomb(1, ctx.alpha, 1, g), 1 / tau));
  }
  plan(ctx: SamplerContext, e: number): EdgePlan {
    if (!this.hard) return new MixtureSampler().plan(ctx, e);
    const k = argmax(ctx.probsHost!, e * ctx.K, ctx.K);
    const row = gather(ctx.probs, rowIndices(e, ctx.K, [...Array(ctx.K).keys()]));
    return { ops: [k], weights: gather(oneHotST(row, k, 1), [k]), unit: true };
  }
  state(): unknown {
    return {};
  }
  loadState(): void {}
}

export class BinarySampler implements Sampler {
  readonly name: SamplerName = 'binary';
  readonly needsProbs = true;
  private rand: () => number;
  private draws = 0;
  constructor(private readonly seed: number) {
    this.rand = seededRandom(seed);
  }
  stepProbs(ctx: Omit<SamplerContext, 'probs' | 'probsHost'>): Tensor {
    return softmax(ctx.alpha);
  }
  private draw(p: ArrayLike<number>, off: number, n: number, exclude = -1): number {
    this.draws++;
    let total = 0;
    for (let i = 0; i < n; i++) if (i !== exclude) total += p[off + i];
    let u = this.rand() * total;
    for (let i = 0; i < n; i++) {
      if (i === exclude) continue;
      u -= p[off + i];
      if (u <= 0) return i;
    }
    // rounding left u > 0: the last candidate with probability > 0
    for (let i = n - 1; i >= 0; i--) if (i !== exclude && p[off + i] > 0) return i;
    return exclude === n - 1 ? n - 2 : n - 1;
  }
  plan(ctx: SamplerContext, e: number): EdgePlan {
    const p = ctx.probsHost!;
    const a = this.draw(p, e * ctx.K, ctx.K);
    const b = rowChoices(ctx, e).length > 1 ? this.draw(p, e * ctx.K, ctx.K, a) : a;
    const pair = a === b ? [a] : [a, b];
    const pr = softmaxVec(gather(ctx.alpha, rowIndices(e, ctx.K, pair)));
    const pa = p[e * ctx.K + a];
    const pb = p[e * ctx.K + b];
    const active = pair.length === 1 || this.rand() < pa / (pa + pb) ? 0 : 1;
    this.draws++;
    return { ops: pair, weights: oneHotST(pr, active, 1) };
  }
  state(): unknown {
    return { seed: this.seed, draws: this.draws };
  }
  loadState(s: unknown): void {
    const st = s as { draws: number };
    this.rand = seededRandom(this.seed);
    for (let i = 0; i < st.draws; i++) this.rand();
    this.draws = st.draws;
  }
}

export class OrderedSampler implements Sampler {
  readonly name: SamplerName = 'ordered';
  readonly needsProbs = false;
  /** per row count n: the cycle its permutations were drawn for, and the permutations of its rows */
  private perms = new Map<number, { cycle: number; byRow: Map<number, number[]> }>();
  constructor(private readonly seed: number) {}
  stepProbs(ctx: Omit<SamplerContext, 'probs' | 'probsHost'>): Tensor {
    return softmax(ctx.alpha);
  }
  /**
   * The column row e runs at `step`: position step mod n of the row's permutation of its n allowed
   * columns for cycle ⌊step / n⌋. Rows with the same n share a cycle and one seeded generator, drawn in
   * row order (with every row allowing all K columns this is one permutation per edge per K steps).
   */
  choice(step: number, e: number, E: number, K: number, allowed?: readonly (readonly number[])[]): number {
    const cols = (r: number): readonly number[] => allowed?.[r] ?? [...Array(K).keys()];
    const n = cols(e).length;
    const cycle = Math.floor(step / n);
    let group = this.perms.get(n);
    if (!group || group.cycle !== cycle) {
      const r = seededRandom(this.seed * 1_000_003 + cycle + (n === K ? 0 : 7_919 * n));
      const byRow = new Map<number, number[]>();
      for (let row = 0; row < E; row++) {
        const c = cols(row);
        if (c.length !== n) continue;
        const p = [...c];
        for (let i = n - 1; i > 0; i--) {
          const j = Math.floor(r() * (i + 1));
          [p[i], p[j]] = [p[j], p[i]];
        }
        byRow.set(row, p);
      }
      group = { cycle, byRow };
      this.perms.set(n, group);
    }
    return group.byRow.get(e)![step % n];
  }
  plan(ctx: SamplerContext, e: number): EdgePlan {
    const k = this.choice(ctx.step, e, ctx.E, ctx.K, ctx.allowed);
    const row = gather(ctx.probs, rowIndices(e, ctx.K, [...Array(ctx.K).keys()]));
    return { ops: [k], weights: gather(oneHotST(row, k, rowChoices(ctx, e).length), [k]), unit: true };
  }
  state(): unknown {
    return {};
  }
  loadState(): void {}
}

export function makeSampler(name: SamplerName, opts: { seed: number; hardGumbel?: boolean; tau?: (step: number) => number }): Sampler {
  switch (name) {
    case 'mixture':
      return new MixtureSampler();
    case 'gumbel':
      return new GumbelSampler({ hard: opts.hardGumbel ?? true, tau: opts.tau ?? (() => 1), seed: opts.seed });
    case 'binary':
      return new BinarySampler(opts.seed);
    case 'ordered':
      return new OrderedSampler(opts.seed);
  }
}
