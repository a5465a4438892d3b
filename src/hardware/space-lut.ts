/**
 * Building the latency LUT of the DARTS or MBConv network at one configuration (the plan, keys and
 * table are in space-lut-plan.ts), and measuring whole child networks against its sums.
 *
 * Every part is a module built from its key alone, in eval mode, with the child network's settings
 * (affine BN; DARTS pools without the search cell's BN), timed in isolation on a random input of its
 * input shape: warm-up, then all parts' repeats interleaved (timeInterleaved), GPU time = Σ of the
 * part's dispatch times (per-dispatch medians; measure.ts). Equal keys share one module and one entry.
 */
import { WgnasError } from '../gpu/errors.js';
import { addN, concat } from '../ops/channels.js';
import { globalAvgPool } from '../ops/pool2d.js';
import { flatten } from '../ops/shape.js';
import type { Device } from '../tensor/device.js';
import { seededRandom } from '../tensor/host-random.js';
import type { Tensor } from '../tensor/tensor.js';
import { FactorizedReduce, MBConv, ReLUConvBN } from '../nn/blocks.js';
import { BatchNorm2d, Conv2d, Linear, ReLU6 } from '../nn/layers.js';
import { Sequential, type Module } from '../nn/module.js';
import { DARTS_OPS, dartsChild } from '../nas/darts-net.js';
import { mbconvChild } from '../nas/mbconv-net.js';
import { dartsModelConfig, mbconvSpaceFor } from '../nas/space-binding.js';
import { DARTS_PRIMITIVES, DARTS_STEPS, type DartsPrimitive, type Gene, type Genotype, validateGenotype } from '../nas/spaces/darts.js';
import { formatGenotype } from '../nas/spaces/darts-format.js';
import { formatMbconv, MBCONV_CHOICES, mbconvLayers, validateMbconv } from '../nas/spaces/mbconv.js';
import { adapterIdentity, createLut, saveLut, setEntry, type LatencyLut } from './lut.js';
import type { BuildOptions, BuiltEntry, LatencyRow } from './lut-build.js';
import { inEvalMode, measureNetworkLatencies, randomInput, timeInterleaved, type ForwardTiming } from './measure.js';
import {
  checkSpaceLutConfig, mbconvLutSpace, spaceLutKnobs, spaceLutNetworkMs, spaceLutParts,
  type SpaceArch, type SpaceLutConfig, type SpaceLutPart,
} from './space-lut-plan.js';

/** The forward of one part: a module (owned by the build, disposed after) or a plain op. */
interface PartRunner {
  model?: Module;
  run: (xs: Tensor[]) => void;
}

function isDartsOp(op: string): op is DartsPrimitive {
  return (DARTS_PRIMITIVES as readonly string[]).includes(op);
}

/** The module and forward of a part, from its key (op + shape) alone. */
export function spacePartRunner(dev: Device, p: SpaceLutPart, seed: number): PartRunner {
  const { c_in: cin, c_out: cout, stride } = p.shape;
  const k = p.shape.kernel ?? 1;
  const one = (model: Module): PartRunner => ({ model, run: ([x]) => void model.forward(x) });
  const convBn = (): Module[] => [new Conv2d(dev, { cin, cout, k, stride, padding: (k - 1) >> 1, seed }), new BatchNorm2d(dev, { c: cout })];
  if (isDartsOp(p.op)) return one(DARTS_OPS[p.op](dev, cin, stride, true, seed));
  const mb = /^mbconv_e([0-9]+)$/.exec(p.op);
  if (mb) return one(new MBConv(dev, { cin, cout, k, expansion: Number(mb[1]), stride, affine: true, seed }));
  if (/^concat_[0-9]+$/.test(p.op)) return { run: (xs) => void concat(xs) };
  switch (p.op) {
    case 'conv_bn':
      return one(new Sequential(dev, convBn()));
    case 'conv_bn_relu6':
      return one(new Sequential(dev, [...convBn(), new ReLU6(dev)]));
    case 'relu_conv_bn':
      return one(new ReLUConvBN(dev, { cin, cout, k, stride, padding: (k - 1) >> 1, affine: true, seed }));
    case 'factorized_reduce':
      return one(new FactorizedReduce(dev, { cin, cout, affine: true, seed }));
    case 'node_sum_2':
      return { run: (xs) => void addN(xs) };
    case 'gap_linear': {
      const fc = new Linear(dev, { inF: cin, outF: cout, seed });
      return { model: fc, run: ([x]) => void fc.forward(flatten(globalAvgPool(x))) };
    }
    default:
      throw new WgnasError(`space LUT build: no runner for part ${p.key}`);
  }
}

/** What was measured for one key, and the options of a build (lut-build.ts's, of this module's parts). */
export type SpaceBuiltEntry = BuiltEntry<SpaceLutPart>;
export type SpaceBuildOptions = BuildOptions<SpaceLutPart>;

/**
 * Times every part of the network at `cfg` (spaceLutParts) in isolation and, in the same interleaved
 * rounds, the `extra` forwards (whole networks: then load drift on a shared machine hits both alike).
 * Returns the LUT and the extra forwards' timings; `extraModels` are put in eval mode too.
 */
async function timeParts(dev: Device, cfg: SpaceLutConfig, extra: readonly (() => void)[], extraModels: readonly Module[],
  opts: SpaceBuildOptions): Promise<{ lut: LatencyLut; extra: ForwardTiming[] }> {
  checkSpaceLutConfig(cfg);
  const seed = opts.seed ?? 1;
  const lut = createLut(adapterIdentity(dev.adapter), dev.profiler.source);
  const parts = spaceLutParts(cfg);
  const models: Module[] = [];
  const inputs: Tensor[] = [];
  try {
    const runs = parts.map((p, i) => {
      const { model, run } = spacePartRunner(dev, p, seed + i);
      if (model) models.push(model);
      const xs = Array.from({ length: p.inputs }, (_, j) => randomInput(dev, [p.shape.n, p.shape.c_in, p.shape.h, p.shape.w], seed + 17 * i + j));
      inputs.push(...xs);
      return () => run(xs);
    });
    const timings = await inEvalMode([...models, ...extraModels], () => timeInterleaved(dev, [...runs, ...extra], opts));
    parts.forEach((p, i) => {
      const t = timings[i];
      setEntry(lut, p.op, p.shape, { medianMs: t.medianMs, p10Ms: t.p10Ms, p90Ms: t.p90Ms, count: t.count });
      opts.onEntry?.({ part: p, timing: t }, i, parts.length);
    });
    return { lut, extra: timings.slice(parts.length) };
  } finally {
    for (const x of inputs) x.dispose();
    for (const m of models) m.dispose();
  }
}

/**
 * Profiles every part of the DARTS or MBConv network at `cfg` (spaceLutParts) in isolation, all parts'
 * repeats interleaved, and returns the LUT keyed by opKey, for the adapter in use (identity and time
 * source recorded in the table).
 */
export async function buildSpaceLut(dev: Device, cfg: SpaceLutConfig, opts: SpaceBuildOptions = {}): Promise<LatencyLut> {
  const { lut } = await timeParts(dev, cfg, [], [], opts);
  if (opts.out) saveLut(opts.out, lut);
  return lut;
}

// ---- child networks against the LUT sum ----

/** A random DARTS genotype as the derivation makes them: per node 2 distinct inputs, ops not 'none'. */
function randomGenotype(rand: () => number): Genotype {
  const ops = DARTS_PRIMITIVES.filter((p) => p !== 'none');
  const cell = (): Gene[] => Array.from({ length: DARTS_STEPS }, (_, node) => {
    const a = Math.floor(rand() * (node + 2));
    const b = (a + 1 + Math.floor(rand() * (node + 1))) % (node + 2);
    return [a, b].map((from) => [ops[Math.floor(rand() * ops.length)], from] as Gene);
  }).flat();
  const concat = Array.from({ length: DARTS_STEPS }, (_, i) => i + 2);
  return validateGenotype({ normal: cell(), normal_concat: concat, reduce: cell(), reduce_concat: [...concat] });
}

/** k distinct random architectures of the space at the config (seeded): DARTS genotypes or MBConv choice lists. */
export function sampleSpaceArchs(cfg: SpaceLutConfig, k: number, seed: number): SpaceArch[] {
  checkSpaceLutConfig(cfg);
  if (!Number.isInteger(k) || k < 1) throw new WgnasError(`sampleSpaceArchs: k must be a positive integer, got ${k}`);
  const rand = seededRandom(seed);
  const layers = cfg.space === 'mbconv' ? mbconvLayers(mbconvLutSpace(cfg), { H: cfg.H, W: cfg.W }) : [];
  const draw = (): SpaceArch => {
    if (cfg.space === 'darts') return randomGenotype(rand);
    return layers.map((l) => {
      const allowed = MBCONV_CHOICES.filter((c) => c !== 'skip' || l.skipAllowed);
      return allowed[Math.floor(rand() * allowed.length)];
    });
  };
  const out = new Map<string, SpaceArch>();
  for (let tries = 0; out.size < k; tries++) {
    if (tries > 100 * k) throw new WgnasError(`sampleSpaceArchs: could not draw ${k} distinct architectures of the ${cfg.space} space`);
    const a = draw();
    out.set(spaceArchString(cfg, a), a);
  }
  return [...out.values()];
}

/** The architecture's string: the DARTS genotype repr or `k3e6-skip-…`. */
export function spaceArchString(cfg: SpaceLutConfig, arch: SpaceArch): string {
  return cfg.space === 'darts' ? formatGenotype(validateGenotype(arch)) : formatMbconv(validateMbconv(arch as readonly string[], mbconvLutSpace(cfg)));
}

/** The child network of `arch`, built as the search's SpaceBinding.child builds it. */
export function spaceChild(dev: Device, cfg: SpaceLutConfig, arch: SpaceArch, seed = 1): Module {
  const knobs = spaceLutKnobs(cfg, seed);
  if (cfg.space === 'darts') return dartsChild(dev, { ...dartsModelConfig(knobs), affine: true }, validateGenotype(arch));
  return mbconvChild(dev, mbconvSpaceFor(knobs), arch as readonly string[], seed);
}

/**
 * Measures the child network of each architecture (all built first, their repeats interleaved) and adds
 * the LUT sum when a LUT is given (a missing key fails before timing). `lut: 'now'` builds the LUT in the
 * same interleaved rounds as the networks (returned as `lut`): on a machine whose load drifts, a LUT
 * built minutes apart from the networks' timing differs from them by the drift, not by what it models.
 */
export async function measureSpaceArchs(dev: Device, cfg: SpaceLutConfig, archs: readonly SpaceArch[],
  opts: SpaceBuildOptions & { lut?: LatencyLut | 'now'; sessions?: number } = {}): Promise<{ rows: LatencyRow[]; lut?: LatencyLut }> {
  checkSpaceLutConfig(cfg);
  const given = typeof opts.lut === 'object' ? opts.lut : undefined;
  const lutMs = archs.map((a) => (given ? spaceLutNetworkMs(given, cfg, a) : NaN));
  const nets: Module[] = [];
  const x = randomInput(dev, [cfg.batch, cfg.inChannels, cfg.H, cfg.W], opts.seed ?? 1);
  try {
    for (const a of archs) nets.push(spaceChild(dev, cfg, a, opts.seed ?? 1));
    const forwards = nets.map((net) => () => void net.forward(x));
    // with a LUT measured now, the networks share its parts' interleaved rounds; otherwise the protocol
    // of every measured latency (measureNetworkLatencies)
    const { lut, extra } = opts.lut === 'now'
      ? await timeParts(dev, cfg, forwards, nets, opts)
      : { lut: given, extra: await measureNetworkLatencies(dev, nets, [cfg.batch, cfg.inChannels, cfg.H, cfg.W], opts) };
    const rows = extra.map((t, i) => ({
      arch_str: spaceArchString(cfg, archs[i]), measured_ms: t.medianMs, measured_min_ms: t.minMs,
      lut_ms: opts.lut === 'now' ? spaceLutNetworkMs(lut!, cfg, archs[i]) : lutMs[i], wall_ms: t.wallMedianMs, dispatches: t.dispatches,
    }));
    return { rows, lut };
  } finally {
    x.dispose();
    for (const n of nets) n.dispose();
  }
}

/** CSV of measured rows (LATENCY_CSV_COLUMNS); fields with a comma or quote are quoted (DARTS genotypes). */
export function spaceLatencyCsv(rows: readonly LatencyRow[]): string {
  const field = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (v: number): string => (Number.isNaN(v) ? '' : String(Number(v.toPrecision(6))));
  const lines = rows.map((r) => [field(r.arch_str), num(r.measured_ms), num(r.measured_min_ms), num(r.lut_ms), num(r.wall_ms), String(r.dispatches)].join(','));
  return `${['arch_str', 'measured_ms', 'measured_min_ms', 'lut_ms', 'wall_ms', 'dispatches'].join(',')}\n${lines.join('\n')}\n`;
}

