/**
 * Supernet search on any space with a SpaceBinding (NAS-Bench-201, DARTS, MBConv): a sampler picks what each edge runs, the loss is
 * task + μ·identity-mapping penalty + λ·expected complexity (+ κ·hardware cost, see objectives.ts),
 * and w and α are optimised one-level (same batch, SurgeNAS) or bi-level (DARTS first order: w on a
 * train batch, α on a held-out batch). Every epoch ends with an atomic checkpoint; a killed run
 * resumes from the last one.
 */
import { GpuDataset } from '../data/gpu-dataset.js';
import type { ImageSet } from '../data/dataset.js';
import { crossEntropy } from '../ops/loss.js';
import { Adam, SGD } from '../ops/optim.js';
import { normal } from '../ops/rng.js';
import { softmax } from '../ops/softmax.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { cosineLr, EpochMeter } from '../nn/train.js';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint, type TensorState } from './checkpoint.js';
import { add, scale, sub } from '../ops/elementwise.js';
import type { CostTerm } from './hardware-cost.js';
import { combine, costTable, expectedCost, identityPenalty, targetPenalty } from './objectives.js';
import { makeSampler, type EdgePlan, type Sampler, type SamplerName } from './samplers.js';
import { selectionOneHot, type DerivedArch, type PlannedNetwork, type SpaceBinding } from './space-binding.js';
import { budgetDerive, type BudgetInfo } from './budget-derive.js';
import { unrolledArchGrad } from './unrolled.js';

export interface SearchOptions {
  sampler: SamplerName;
  optim: 'one-level' | 'bi-level';
  /** bi-level only: DARTS second order (unrolled.ts) instead of first order */
  secondOrder?: boolean;
  epochs: number;
  /** epochs at the start that train the weights only (α frozen): undertrained ops otherwise look harmful and α drifts to 'none' */
  warmupEpochs: number;
  /** derive without 'none' (DARTS rule) */
  excludeNone: boolean;
  batchSize: number;
  seed: number;
  lr: number;
  archLr: number;
  /** a budget term's band is target·(1 ± targetTolerance): the derivation picks the most likely architecture in it */
  targetTolerance: number;
  /** μ: identity-mapping regulariser weight */
  identityWeight: number;
  /** λ·complexity and κ·hardware terms (see hardware-cost.ts) */
  terms: CostTerm[];
  out: string;
  resume: boolean;
  log?: (line: string, final: boolean) => void;
}

export interface SearchResult extends DerivedArch {
  /** with a budget (--target) on a cost table: the unconstrained argmax and how the budget was met */
  budget?: BudgetInfo;
  alphaHistory: number[][][];
  seconds: number;
  peakLiveBytes: number;
  finalTrainAccuracy: number;
  epochsRun: number;
}

interface SearchMeta {
  epoch: number;
  step: number;
  seconds: number;
  alphaHistory: number[][][];
  wOptStep: number;
  aOptStep: number;
  sampler: unknown;
  options: unknown;
}

const MOMENTUM = 0.9;
const WEIGHT_DECAY = 3e-4;
/** Why these options cannot run DARTS second order (undefined when they can, or do not ask for it). */
export function secondOrderProblem(o: Pick<SearchOptions, 'secondOrder' | 'optim' | 'sampler'>): string | undefined {
  if (!o.secondOrder || (o.optim === 'bi-level' && o.sampler !== 'binary')) return undefined;
  return `--second-order: DARTS second order needs --optim bi-level and a sampler that plans deterministically per step (ordered, mixture, gumbel); got --optim ${o.optim} --sampler ${o.sampler}`;
}

/** logit bias of α entries a row may not run: softmax gives them probability 0 (exp(−1e4) underflows) */
const BLOCKED = -1e4;

export function toRows(flat: Float32Array, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(flat.subarray(r * cols, (r + 1) * cols)));
}

/** Splits an in-memory image set into two halves (bi-level: w on the first, α on the second). */
export function splitImageSet(d: ImageSet): [ImageSet, ImageSet] {
  const half = Math.floor(d.n / 2);
  const px = d.c * d.h * d.w;
  const a = { ...d, n: half, images: d.images.subarray(0, half * px), labels: d.labels.subarray(0, half) };
  const b = { ...d, n: d.n - half, images: d.images.subarray(half * px), labels: d.labels.subarray(half) };
  return [a, b];
}

export class SupernetSearch {
  readonly net: PlannedNetwork;
  readonly alpha: Tensor;
  /** [rows, cols] 0 / BLOCKED, added to α before every softmax (absent when every row may run every column) */
  private readonly mask?: Tensor;
  private readonly E: number;
  private readonly K: number;
  readonly wOpt: SGD;
  readonly aOpt: Adam;
  readonly sampler: Sampler;
  private tables: (Tensor | undefined)[];

  constructor(readonly dev: Device, readonly opts: SearchOptions, readonly space: SpaceBinding) {
    const [E, K] = [space.rows, space.cols];
    [this.E, this.K] = [E, K];
    this.net = space.supernet();
    // α ~ 1e-3·N(0, 1) from the GPU RNG, as DARTS initialises it
    const a = normal(dev, [E, K], opts.seed, 0, 0, 1e-3);
    a.persistent = true;
    a.requiresGrad = true;
    a.label = 'alpha';
    dev.disown(a);
    this.alpha = a;
    if (space.allowed) {
      const bias = new Float32Array(E * K).fill(BLOCKED);
      space.allowed.forEach((cols, r) => cols.forEach((c) => (bias[r * K + c] = 0)));
      this.mask = dev.tensor(bias, [E, K], { persistent: true, label: 'alpha-mask' });
    }
    const bad = secondOrderProblem(opts);
    if (bad) throw new Error(bad);
    this.wOpt = new SGD(this.net.parameters(), { lr: opts.lr, momentum: MOMENTUM, weightDecay: WEIGHT_DECAY });
    this.aOpt = new Adam([this.alpha], { lr: opts.archLr, beta1: 0.5, beta2: 0.999, weightDecay: 1e-3 });
    this.sampler = makeSampler(opts.sampler, { seed: opts.seed, hardGumbel: true, tau: (s) => Math.max(0.1, 10 * Math.pow(0.9995, s)) });
    this.tables = opts.terms.map((t) => (t.table && t.weight !== 0 ? costTable(dev, t.table, E, K, t.norm) : undefined));
  }

  /** the logits the samplers and objectives see: α, with blocked entries at −1e4 */
  private logits(): Tensor {
    return this.mask ? add(this.alpha, this.mask) : this.alpha;
  }

  /** Forward of one batch under the sampler's plans; returns [logits, loss terms] inside the caller's scope. */
  async stepLoss(x: Tensor, y: Tensor, step: number, withArchTerms: boolean): Promise<{ logits: Tensor; loss: Tensor }> {
    const { E, K, space } = this;
    const base = { alpha: this.logits(), step, E, K, noneIndex: space.noneIndex, allowed: space.allowed };
    const P = softmax(base.alpha);
    const probs = this.sampler.name === 'gumbel' ? this.sampler.stepProbs(base) : P;
    const probsHost = this.sampler.needsProbs ? await probs.read() : undefined;
    const ctx = { ...base, probs, probsHost };
    const plans: EdgePlan[] = Array.from({ length: E }, (_, e) => this.sampler.plan(ctx, e));
    const logits = this.net.forwardPlanned(x, plans);
    const task = crossEntropy(logits, y);
    if (!withArchTerms) return { logits, loss: task };
    const terms: [number, Tensor | undefined][] = [[this.opts.identityWeight, this.opts.identityWeight ? identityPenalty(P, space.skipIndex, E, K) : undefined]];
    let selected: Float32Array | undefined;
    let hard: Tensor | undefined;
    let hardLogits: Tensor | undefined;
    for (const [i, t] of this.opts.terms.entries()) {
      if (t.weight === 0) continue;
      const table = this.tables[i];
      // a predictor prices softmax of the same masked logits the samplers see (blocked entries ~0)
      const soft = table ? expectedCost(P, table) : t.fn ? scale(t.fn(base.alpha), 1 / t.norm) : undefined;
      if (t.target === undefined || !soft) {
        terms.push([t.weight, soft]);
        continue;
      }
      // a budget binds the architecture derivation gives, not a mixture that averages to it: straight-
      // through, value = cost of the derived architecture, gradient = that of the soft expectation
      // (one [E, K] readback per step)
      selected ??= space.selection(space.derive(toRows(await P.read(), E, K), this.opts.excludeNone));
      const hardCost = table
        ? expectedCost((hard ??= this.dev.tensor(selected, [E, K])), table)
        // logits whose softmax is (numerically) the architecture's one-hot, dropped DARTS edges on 'none'
        : scale(t.fn!((hardLogits ??= this.dev.tensor(selectionOneHot(space, selected).map((v) => 50 * v), [E, K]))), 1 / t.norm);
      const correction = this.dev.noGrad(() => sub(hardCost, soft));
      terms.push([t.weight, targetPenalty(add(soft, correction), t.target / t.norm, (t.offset ?? 0) / t.norm)]);
    }
    const loss = combine(task, terms);
    return { logits, loss };
  }

  private setWeightsTrainable(on: boolean): void {
    for (const p of this.net.parameters()) p.requiresGrad = on;
  }

  /**
   * The final architecture: the argmax, or — with a budget (target) on a cost table, in any space — the
   * most likely architecture whose table cost is within the band (budget.ts, over the space's
   * choiceGroups). Costs here are in the table's units (ms, MACs), before the term's normalisation.
   */
  async deriveFinal(): Promise<DerivedArch & { budget?: BudgetInfo }> {
    const d = await this.derive();
    const term = this.opts.terms.find((t) => t.target !== undefined && t.table);
    if (!term) return d;
    return budgetDerive(this.space, d.probs, term, { tolerance: this.opts.targetTolerance, excludeNone: this.opts.excludeNone });
  }

  async derive(): Promise<DerivedArch & { probs: number[][] }> {
    const probs = toRows(await this.dev.tidy(() => softmax(this.logits())).read(), this.E, this.K);
    return { ...this.space.derive(probs, this.opts.excludeNone), probs };
  }

  private async checkpoint(meta: SearchMeta): Promise<void> {
    const tensors: TensorState = {};
    for (const [k, v] of Object.entries(await this.net.stateDict())) tensors[`net.${k}`] = v;
    tensors.alpha = { shape: [this.E, this.K], data: await this.alpha.read() };
    const w = await this.wOpt.state();
    const a = await this.aOpt.state();
    for (const [k, list] of Object.entries(w.slots)) list.forEach((d, i) => (tensors[`wopt.${k}.${i}`] = { shape: [d.length], data: d }));
    for (const [k, list] of Object.entries(a.slots)) list.forEach((d, i) => (tensors[`aopt.${k}.${i}`] = { shape: [d.length], data: d }));
    saveCheckpoint(this.opts.out, { ...meta, wOptStep: w.step, aOptStep: a.step }, tensors);
  }

  private restore(): SearchMeta | undefined {
    if (!this.opts.resume || !hasCheckpoint(this.opts.out)) return undefined;
    const c = loadCheckpoint<SearchMeta>(this.opts.out)!;
    const net: Record<string, { shape: readonly number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(c.tensors)) if (k.startsWith('net.')) net[k.slice(4)] = v;
    this.net.loadStateDict(net);
    this.dev.write(this.alpha.buffer, c.tensors.alpha.data);
    const slots = (prefix: string): Record<string, Float32Array[]> => {
      const out: Record<string, Float32Array[]> = {};
      for (const [k, v] of Object.entries(c.tensors)) {
        if (!k.startsWith(prefix)) continue;
        const [, name, i] = k.split('.');
        (out[name] ??= [])[Number(i)] = v.data;
      }
      return out;
    };
    this.wOpt.loadState({ step: c.meta.wOptStep, slots: slots('wopt.') });
    this.aOpt.loadState({ step: c.meta.aOptStep, slots: slots('aopt.') });
    this.sampler.loadState(c.meta.sampler);
    return c.meta;
  }

  async run(train: GpuDataset, val?: GpuDataset): Promise<SearchResult> {
    const { dev, opts } = this;
    const bilevel = opts.optim === 'bi-level';
    if (bilevel && !val) throw new Error('bi-level search needs a held-out split for α');
    const steps = train.batchCount(opts.batchSize, true);
    const total = steps * opts.epochs;
    const resumed = this.restore();
    const alphaHistory = resumed?.alphaHistory ?? [];
    let step = resumed?.step ?? 0;
    const startEpoch = resumed ? resumed.epoch + 1 : 0;
    const priorSeconds = resumed?.seconds ?? 0;
    if (resumed) opts.log?.(`resumed from ${opts.out} after epoch ${resumed.epoch + 1}`, true);
    const meter = new EpochMeter(dev);
    await dev.sync();
    dev.alloc.resetPeak();
    const t0 = performance.now();
    let lastAcc = 0;
    this.net.train();
    for (let epoch = startEpoch; epoch < opts.epochs; epoch++) {
      train.shuffle(epoch);
      val?.shuffle(epoch);
      meter.reset();
      const te = performance.now();
      const archUpdates = epoch >= opts.warmupEpochs;
      for (let s = 0; s < steps; s++, step++) {
        this.wOpt.lr = cosineLr(opts.lr, step, total);
        const { x, y } = train.batch(s * opts.batchSize, opts.batchSize);
        const valBatch = () => val!.batch((s % val!.batchCount(opts.batchSize, true)) * opts.batchSize, opts.batchSize);
        if (bilevel && archUpdates && opts.secondOrder) {
          // DARTS second order: the α step comes first, at the current w, through one virtual w step on
          // this train batch (the closures are repeatable: samplers plan deterministically per step)
          const vb = valBatch();
          await dev.tidy(async () => {
            await unrolledArchGrad(dev, this.net.parameters(), this.alpha,
              async () => (await this.stepLoss(x, y, step, false)).loss,
              async () => (await this.stepLoss(vb.x, vb.y, step, true)).loss,
              { xi: this.wOpt.lr, weightDecay: WEIGHT_DECAY, momentum: { factor: MOMENTUM, buffers: this.wOpt.momentumBuffers } });
            this.aOpt.step();
          });
          vb.x.dispose();
          vb.y.dispose();
        }
        await dev.tidy(async () => {
          if (bilevel || !archUpdates) this.alpha.requiresGrad = false;
          const { logits, loss } = await this.stepLoss(x, y, step, !bilevel && archUpdates);
          meter.add(loss, logits, y);
          this.wOpt.zeroGrad();
          this.aOpt.zeroGrad();
          await loss.backward();
          this.wOpt.step();
          if (!bilevel && archUpdates) this.aOpt.step();
          this.alpha.requiresGrad = true;
        });
        x.dispose();
        y.dispose();
        await dev.throttle();
        if (bilevel && archUpdates && !opts.secondOrder) {
          const vb = valBatch();
          await dev.tidy(async () => {
            this.setWeightsTrainable(false);
            const { loss } = await this.stepLoss(vb.x, vb.y, step, true);
            this.aOpt.zeroGrad();
            await loss.backward();
            this.aOpt.step();
            this.setWeightsTrainable(true);
          });
          vb.x.dispose();
          vb.y.dispose();
        }
        if (opts.log && ((s + 1) % 20 === 0 || s === steps - 1)) {
          const m = await meter.read();
          const d = await this.derive();
          const secs = (performance.now() - te) / 1000;
          opts.log(`search epoch ${epoch + 1}/${opts.epochs} step ${s + 1}/${steps}  loss ${m.loss.toFixed(4)}  acc ${(100 * m.accuracy).toFixed(2)}%  ${(meter.images / secs).toFixed(0)} img/s  argmax ${d.archStr}`, s === steps - 1);
        }
      }
      const m = await meter.read();
      lastAcc = m.accuracy;
      alphaHistory.push((await this.derive()).probs);
      const seconds = priorSeconds + (performance.now() - t0) / 1000;
      await this.checkpoint({ epoch, step, seconds, alphaHistory, wOptStep: 0, aOptStep: 0, sampler: this.sampler.state(), options: { ...opts, log: undefined, terms: opts.terms.map((t) => ({ name: t.name, weight: t.weight, target: t.target, norm: t.norm })), resume: undefined, out: undefined } as never });
    }
    meter.dispose();
    const d = await this.deriveFinal();
    return { arch: d.arch, archStr: d.archStr, budget: d.budget, alphaHistory, seconds: priorSeconds + (performance.now() - t0) / 1000, peakLiveBytes: dev.memory.peakLiveBytes, finalTrainAccuracy: lastAcc, epochsRun: opts.epochs - startEpoch };
  }

  dispose(): void {
    this.net.dispose();
    this.alpha.dispose();
    this.mask?.dispose();
    for (const t of this.tables) t?.dispose();
  }
}
