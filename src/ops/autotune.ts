/**
 * Kernel autotuner: for one op call (a key of src/ops/tuning.ts — op, pass, exact shape) it runs every
 * variant that is LEGAL for the call, checks each against the naive variant, times those that pass and
 * records the fastest in the device's tuning cache (src/gpu/tuning-cache.ts; `wgnas tune` saves it).
 *
 * The steps, as llm.c's dev/cuda develops a kernel (naive first, every faster variant checked before it
 * is timed):
 *  1. legal variants: the op's own rules (conv2dVariantIllegal, gemmVariantIllegal), never a copy of them;
 *  2. check: each variant runs once on seeded random inputs (uniform [-1, 1)) with NaN-poisoned outputs
 *     and is compared with the 'naive' variant's output on the same inputs (naive is itself tested against
 *     float64 references in test/ops): max |got − naive| / max |naive| <= tol (1e-4, as kernels-bench).
 *     A variant that disagrees, leaves an output unwritten (NaN) or throws is REJECTED: reported, never
 *     timed, never chosen. A variant whose dispatches are exactly another's (e.g. 'window' and 'tiled' of
 *     a conv weight gradient run the same kernels) is reported as the same and not timed twice;
 *  3. timing: GPU time from the profiler's timestamp queries (src/tensor/timing.ts), `warmup` untimed runs
 *     per variant, then `repeats` rounds that time every variant once each (interleaved, so load from
 *     other processes lands on all of them alike); the median per variant;
 *  4. choice: the fastest median, except that the shape-class default is kept when it is within `margin`
 *     (5%) of it, so timing noise does not swap kernels for nothing.
 */
import { ShapeError } from '../gpu/errors.js';
import type { TuningEntry } from '../gpu/tuning-cache.js';
import { TuningCache, adapterIdentity } from '../gpu/tuning-cache.js';
import { quantile } from '../gpu/profiler.js';
import type { Device } from '../tensor/device.js';
import { seededValues } from '../tensor/host-random.js';
import { timeOnce } from '../tensor/timing.js';
import type { Tensor } from '../tensor/tensor.js';
import { chooseConv2dVariant, conv2dBackwardInput, conv2dBackwardWeight, conv2dForward, conv2dVariantIllegal, CONV2D_VARIANTS, type Conv2dVariant } from './conv2d.js';
import { chooseGemmVariant, gemm, gemmVariantIllegal, GEMM_VARIANTS, type GemmVariant } from './matmul.js';
import { tuneKey, type TuneCall } from './tuning.js';

/** The variants the op would accept for this call (its own legality rules). */
export function legalVariants(call: TuneCall): string[] {
  if (call.op === 'conv2d') return CONV2D_VARIANTS.filter((v) => conv2dVariantIllegal(call.g, v) === null);
  return GEMM_VARIANTS.filter((v) => gemmVariantIllegal(v, call.M, call.N, call.K, call.transA, call.transB, call.strides) === null);
}

/** The shape-class rule's variant for the call (what runs without a cache). */
export function defaultVariant(call: TuneCall): string {
  if (call.op === 'conv2d') return chooseConv2dVariant(call.g);
  return chooseGemmVariant(call.M, call.N, call.K, call.transA, call.transB, call.batch, call.strides);
}

/** The tuner's inputs for one call, and a runner of any legal variant on them. */
export interface TuneInputs {
  tensors: Record<string, Tensor>;
  /** encodes the call with `variant` forced; returns its output */
  runVariant(variant: string): Tensor;
  /** the elements of the output the call writes (GEMM strides may leave gaps) */
  written(out: Float32Array): Float32Array;
}

/** A candidate kernel: a legal variant, or (tests) any function of the inputs with the call's output. */
export interface TuneCandidate {
  name: string;
  run(inputs: TuneInputs): Tensor;
}

function span(batch: number, stride: number, size: number): number {
  return (batch - 1) * stride + size;
}

/** Seeded uniform [-1, 1) inputs for a call (persistent; dispose with disposeInputs). */
export function tuneInputs(dev: Device, call: TuneCall, seed = 1234): TuneInputs {
  const t = (n: number, s: number, shape: readonly number[] = [n]) => dev.tensor(seededValues(n, seed + s), shape, { persistent: true });
  if (call.op === 'conv2d') {
    const g = call.g;
    const x = t(g.N * g.Cin * g.H * g.W, 0, [g.N, g.Cin, g.H, g.W]);
    const weight = t(g.Cout * g.cinG * g.k * g.k, 1, [g.Cout, g.cinG, g.k, g.k]);
    const dout = t(g.N * g.Cout * g.Hout * g.Wout, 2, [g.N, g.Cout, g.Hout, g.Wout]);
    const o = { stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups };
    return {
      tensors: { x, weight, dout },
      runVariant: (v) => {
        const opts = { ...o, variant: v as Conv2dVariant };
        if (call.pass === 'forward') return conv2dForward(x, weight, opts);
        if (call.pass === 'backward_input') return conv2dBackwardInput(dout, weight, x.shape, opts);
        return conv2dBackwardWeight(dout, x, weight.shape, opts);
      },
      written: (out) => out,
    };
  }
  const { M, N, K, batch } = call;
  const [strideA, strideB, strideC] = call.strides;
  const a = t(span(batch, strideA, M * K), 0);
  const b = t(span(batch, strideB, K * N), 1);
  return {
    tensors: { a, b },
    runVariant: (v) => {
      const out = dev.empty([span(batch, strideC, M * N)]);
      return gemm({ a, b, out, M, N, K, transA: call.transA, transB: call.transB, batch, strideA, strideB, strideC, variant: v as GemmVariant });
    },
    written: (out) => {
      if (strideC === M * N) return out.subarray(0, batch * M * N);
      const w = new Float32Array(batch * M * N);
      for (let z = 0; z < batch; z++) w.set(out.subarray(z * strideC, z * strideC + M * N), z * M * N);
      return w;
    },
  };
}

function disposeInputs(inp: TuneInputs): void {
  for (const t of Object.values(inp.tensors)) t.dispose();
}

/** Max |got − want| / max |want|; Infinity when lengths differ or anything is not finite. */
export function relativeError(got: Float32Array, want: Float32Array): number {
  if (got.length !== want.length) return Infinity;
  let err = 0;
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (!Number.isFinite(e)) return Infinity;
    if (e > err) err = e;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

export interface VariantResult {
  variant: string;
  /** median / p10 / p90 GPU ms over the repeats (absent when rejected or the same as another variant) */
  ms?: number;
  p10Ms?: number;
  p90Ms?: number;
  /** max |out − naive| / max |naive| */
  relErr?: number;
  /** why the variant was rejected (disagreed with naive, threw, no timing) */
  rejected?: string;
  /** the variant whose dispatches this one repeats exactly */
  sameAs?: string;
}

export interface TuneResult {
  key: string;
  call: TuneCall;
  default: string;
  winner: string;
  /** median GPU ms of the default and of the winner (a variant that repeats another's kernels has its ms) */
  defaultMs: number;
  winnerMs: number;
  /** defaultMs / winnerMs (NaN when the default was rejected: then it is a bug the report shows) */
  speedup: number;
  results: VariantResult[];
  source: 'timestamp' | 'wall';
}

export interface TuneOptions {
  /** timed rounds (every variant once per round); default 7 */
  repeats?: number;
  /** untimed runs per variant first; default 1 */
  warmup?: number;
  /** check tolerance, relative to max |naive|; default 1e-4 */
  tol?: number;
  /** keep the default unless a variant is faster by more than this fraction; default 0.05 */
  margin?: number;
  seed?: number;
  /** more candidates beside the legal variants (tests inject wrong kernels here) */
  extraCandidates?: (call: TuneCall) => TuneCandidate[];
}

interface Checked {
  cand: TuneCandidate;
  res: VariantResult;
  kernels: string;
}

/** Runs a candidate once with poisoned outputs; its output (written part) and the kernels it dispatched. */
async function runChecked(dev: Device, inp: TuneInputs, cand: TuneCandidate): Promise<{ out: Float32Array; kernels: string }> {
  const kept = dev.profiler.records;
  const poison = dev.poison;
  dev.profiler.records = [];
  dev.poison = true;
  let out: Tensor | undefined;
  try {
    out = await dev.profile(() => dev.tidy(() => cand.run(inp)));
    const kernels = dev.profiler.records.map((r) => r.kernel).filter((k) => !k.startsWith('core.wgsl:fill')).join(' ');
    return { out: inp.written(await out.read()), kernels };
  } finally {
    out?.dispose();
    dev.profiler.records = kept;
    dev.poison = poison;
  }
}

/** Checks, times and chooses among the legal variants of one call (module comment); does not touch the cache. */
export async function tuneCall(dev: Device, call: TuneCall, o: TuneOptions = {}): Promise<TuneResult> {
  const { repeats = 7, warmup = 1, tol = 1e-4, margin = 0.05, seed = 1234 } = o;
  const key = tuneKey(call);
  const legal = legalVariants(call);
  if (!legal.includes('naive')) throw new ShapeError(`autotune ${key}: the naive variant is not legal here, nothing to check against`);
  const cands: TuneCandidate[] = [...legal.map((v) => ({ name: v, run: (i: TuneInputs) => i.runVariant(v) })), ...(o.extraCandidates?.(call) ?? [])];
  const inp = tuneInputs(dev, call, seed);
  try {
    const ref = await runChecked(dev, inp, cands.find((c) => c.name === 'naive')!);
    const checked: Checked[] = [];
    for (const cand of cands) {
      const res: VariantResult = { variant: cand.name };
      let kernels = '';
      try {
        const r = cand.name === 'naive' ? ref : await runChecked(dev, inp, cand);
        kernels = r.kernels;
        res.relErr = relativeError(r.out, ref.out);
        if (!(res.relErr <= tol)) res.rejected = `disagrees with naive: rel err ${res.relErr.toExponential(2)} > ${tol}`;
      } catch (e) {
        res.rejected = `failed: ${(e as Error).message.split('\n')[0]}`;
      }
      const twin = res.rejected ? undefined : checked.find((c) => !c.res.rejected && !c.res.sameAs && c.kernels === kernels);
      if (twin) res.sameAs = twin.cand.name;
      checked.push({ cand, res, kernels });
    }
    const timed = checked.filter((c) => !c.res.rejected && !c.res.sameAs);
    for (const c of timed) for (let i = 0; i < warmup; i++) dev.tidy(() => { c.cand.run(inp); });
    await dev.sync();
    const samples = new Map<Checked, number[]>(timed.map((c) => [c, []]));
    for (let r = 0; r < repeats; r++) {
      for (const c of timed) {
        const ms = await timeOnce(dev, () => c.cand.run(inp));
        if (Number.isFinite(ms)) samples.get(c)!.push(ms);
      }
    }
    for (const c of timed) {
      const s = samples.get(c)!.sort((a, b) => a - b);
      if (s.length === 0) c.res.rejected = 'no timing (the profiler returned no record)';
      else Object.assign(c.res, { ms: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9) });
    }
    const msOf = (v: string): number | undefined => {
      const r = checked.find((c) => c.cand.name === v)?.res;
      return r?.ms ?? (r?.sameAs ? msOf(r.sameAs) : undefined);
    };
    const ok = timed.filter((c) => c.res.ms !== undefined).sort((a, b) => a.res.ms! - b.res.ms!);
    if (ok.length === 0) throw new ShapeError(`autotune ${key}: no variant passed the check (${checked.map((c) => `${c.cand.name}: ${c.res.rejected}`).join('; ')})`);
    const def = defaultVariant(call);
    const best = ok[0].cand.name;
    const defMs = msOf(def);
    const winner = defMs !== undefined && defMs <= ok[0].res.ms! * (1 + margin) ? def : best;
    const winnerMs = msOf(winner)!;
    return {
      key, call, default: def, winner, defaultMs: defMs ?? NaN, winnerMs,
      speedup: (defMs ?? NaN) / winnerMs,
      results: checked.map((c) => c.res),
      source: dev.profiler.source,
    };
  } finally {
    disposeInputs(inp);
  }
}

/** The cache entry of a tuning result. */
export function tuningEntry(r: TuneResult): TuningEntry {
  const ms: Record<string, number> = {};
  const rejected: Record<string, string> = {};
  for (const v of r.results) {
    if (v.ms !== undefined) ms[v.variant] = v.ms;
    if (v.rejected) rejected[v.variant] = v.rejected;
  }
  return { variant: r.winner, default: r.default, ms, ...(Object.keys(rejected).length ? { rejected } : {}), source: r.source };
}

/**
 * Tunes calls one after another, GEMMs first (conv2d's gemm path then runs the GEMM variant just
 * chosen), and puts each winner in the device's tuning cache at once (created empty for the adapter if
 * the device has none). Save it with saveTuningCache(dev.tuning).
 */
export async function tuneCalls(dev: Device, calls: readonly TuneCall[], o: TuneOptions & { onResult?: (r: TuneResult, i: number, n: number) => void } = {}): Promise<TuneResult[]> {
  dev.tuning ??= new TuningCache(adapterIdentity(dev.adapter));
  const ordered = [...calls.filter((c) => c.op === 'gemm'), ...calls.filter((c) => c.op !== 'gemm')];
  const out: TuneResult[] = [];
  for (const [i, call] of ordered.entries()) {
    const r = await tuneCall(dev, call, o);
    // only variants of the op itself enter the cache; injected test candidates never do
    if (legalVariants(call).includes(r.winner)) dev.tuning.set(r.key, tuningEntry(r));
    out.push(r);
    o.onResult?.(r, i, ordered.length);
  }
  return out;
}
