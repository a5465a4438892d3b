/**
 * One training step of the search network, per sampler, and of the derived child alone:
 *   node kernels-bench/search-step.js [--space nb201|darts|mbconv] [--adapter A] [--channels C] [--cells-per-stage N]
 *        [--batch B] [--stem-stride S] [--samplers ordered,mixture,...] [--arch ARCH_STR] [--steps N] [--json FILE]
 * The child defaults to a heavy architecture of the space: NB201 five 3×3 convs + a skip, DARTS_V2,
 * MBConv k7e6 on every layer.
 * Reports per sampler: step time (wall, median), GPU time (sum of timestamped dispatches), peak live GPU
 * bytes of a step (allocator), and the per-kernel breakdown of one profiled step (top kernels by time).
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { flag, parseArgs } from '../src/cli/args.js';
import { summarize, type KernelSummary } from '../src/gpu/profiler.js';
import { crossEntropy } from '../src/ops/loss.js';
import { SGD, Adam } from '../src/ops/optim.js';
import { softmax } from '../src/ops/softmax.js';
import { makeSampler, SAMPLERS, type SamplerName } from '../src/nas/samplers.js';
import { mbconvSpaceFor, spaceBinding, SPACES, type DerivedArch, type SpaceName } from '../src/nas/space-binding.js';
import { DARTS_V2 } from '../src/nas/spaces/darts.js';
import { formatGenotype, parseGenotype } from '../src/nas/spaces/darts-format.js';
import { mbconvLayers, parseMbconv } from '../src/nas/spaces/mbconv.js';
import { parseNb201 } from '../src/nas/spaces/nb201.js';
import { openDevice, type Device } from '../src/tensor/device.js';
import { seededValues } from '../src/tensor/host-random.js';
import type { Tensor } from '../src/tensor/tensor.js';

const USAGE = 'usage: node kernels-bench/search-step.js [--space nb201|darts|mbconv] [--adapter A] [--channels C] [--cells-per-stage N] [--batch B] [--stem-stride S] [--samplers LIST] [--arch ARCH] [--steps N] [--json FILE]';

const Flags = z.object({
  adapter: flag.adapter(),
  space: z.enum(SPACES).default('nb201'),
  channels: flag.int(2).default(8),
  cellsPerStage: flag.int(1).default(1),
  batch: flag.int(1).default(64),
  stemStride: z.coerce.number().int().min(1).max(2).default(2),
  h: flag.int(4).default(28),
  inChannels: flag.int(1).default(1),
  samplers: z.string().default(SAMPLERS.join(',')),
  arch: z.string().optional(),
  steps: flag.int(2).default(5),
  top: flag.int(1).default(12),
  json: z.string().optional(),
}).strict();

interface StepReport {
  what: string;
  stepMs: number;
  gpuMs: number;
  peakLiveBytes: number;
  dispatches: number;
  kernels: KernelSummary[];
}

const NB201_HEAVY = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|';

/** the child architecture to compare with: --arch in the space's own string format, or a heavy default */
function childArch(space: SpaceName, arch: string | undefined, knobs: Parameters<typeof mbconvSpaceFor>[0]): DerivedArch {
  switch (space) {
    case 'nb201': {
      const a = parseNb201(arch ?? NB201_HEAVY);
      return { arch: [...a], archStr: arch ?? NB201_HEAVY };
    }
    case 'darts': {
      const g = arch ? parseGenotype(arch) : DARTS_V2;
      return { arch: g, archStr: formatGenotype(g) };
    }
    case 'mbconv': {
      const cfg = mbconvSpaceFor(knobs);
      const a = arch ? parseMbconv(arch, cfg) : mbconvLayers(cfg, knobs).map(() => 'k7e6' as const);
      return { arch: [...a], archStr: a.join('-') };
    }
  }
}

async function measure(dev: Device, what: string, step: (i: number) => Promise<void>, steps: number): Promise<StepReport> {
  await step(0); // warm-up: pipelines compiled, buffers cached
  await dev.sync();
  const times: number[] = [];
  let peak = 0;
  for (let i = 1; i <= steps; i++) {
    await dev.sync();
    dev.alloc.resetPeak();
    const base = dev.memory.liveBytes;
    const t0 = performance.now();
    await step(i);
    await dev.sync();
    times.push(performance.now() - t0);
    peak = Math.max(peak, dev.memory.peakLiveBytes - base);
  }
  dev.profiler.reset();
  const d0 = dev.dispatchCount;
  await dev.profile(() => step(steps + 1));
  const kernels = summarize(dev.profiler.records);
  const gpuMs = kernels.reduce((a, k) => a + k.totalMs, 0);
  times.sort((a, b) => a - b);
  return { what, stepMs: times[Math.floor(times.length / 2)], gpuMs, peakLiveBytes: peak, dispatches: dev.dispatchCount - d0, kernels };
}

export async function searchStepMain(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, Flags, USAGE);
  const dev = await openDevice({ adapter: o.adapter });
  console.log(`adapter: ${dev.adapter.name} [${dev.adapter.kind}]  ${o.space} C=${o.channels} N=${o.cellsPerStage} batch ${o.batch} input ${o.inChannels}×${o.h}×${o.h} stem stride ${o.stemStride}`);
  const knobs = { C: o.channels, N: o.cellsPerStage, inChannels: o.inChannels, classes: 10, H: o.h, W: o.h, stemStride: o.stemStride, seed: 1 };
  const space = spaceBinding(o.space, dev, knobs);
  const [E, K] = [space.rows, space.cols];
  // blocked α entries (MBConv layers that cannot skip) get the search's −1e4 logit bias
  const bias = space.allowed ? Float32Array.from({ length: E * K }, (_, i) => (space.allowed![Math.floor(i / K)].includes(i % K) ? 0 : -1e4)) : undefined;
  const x = dev.tensor(seededValues(o.batch * o.inChannels * o.h * o.h, 5), [o.batch, o.inChannels, o.h, o.h], { persistent: true });
  const y = dev.tensor(Float32Array.from({ length: o.batch }, (_, i) => i % 10), [o.batch], { persistent: true });
  const reports: StepReport[] = [];
  for (const name of o.samplers.split(',') as SamplerName[]) {
    if (!SAMPLERS.includes(name)) throw new Error(`unknown sampler ${name}`);
    const net = space.supernet();
    const alpha = dev.parameter(seededValues(E * K, 3, -1e-3, 1e-3).map((v, i) => v + (bias?.[i] ?? 0)), [E, K], 'alpha');
    const wOpt = new SGD(net.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 3e-4 });
    const aOpt = new Adam([alpha], { lr: 3e-4 });
    const sampler = makeSampler(name, { seed: 1, hardGumbel: true });
    reports.push(await measure(dev, `supernet/${name}`, async (i) => {
      await dev.tidy(async () => {
        const base = { alpha, step: i, E, K, noneIndex: space.noneIndex, allowed: space.allowed };
        const probs = name === 'gumbel' ? sampler.stepProbs(base) : softmax(alpha);
        const ctx = { ...base, probs, probsHost: sampler.needsProbs ? await probs.read() : undefined };
        const plans = Array.from({ length: E }, (_, e) => sampler.plan(ctx, e));
        const loss = crossEntropy(net.forwardPlanned(x, plans), y);
        wOpt.zeroGrad();
        aOpt.zeroGrad();
        await loss.backward();
        wOpt.step();
        aOpt.step();
      });
    }, o.steps));
    net.dispose();
    alpha.dispose();
    wOpt.dispose();
    aOpt.dispose();
  }
  const arch = childArch(o.space, o.arch, knobs);
  const child = space.child(arch);
  const opt = new SGD(child.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 3e-4 });
  reports.push(await measure(dev, `child ${arch.archStr}`, async () => {
    await dev.tidy(async () => {
      const loss = crossEntropy(child.forward(x), y) as Tensor;
      opt.zeroGrad();
      await loss.backward();
      opt.step();
    });
  }, o.steps));
  const child0 = reports[reports.length - 1];
  const mix = reports.find((r) => r.what === 'supernet/mixture');
  console.log('\nwhat                         step ms   GPU ms   dispatches  peak MiB   ×mixture  ×child');
  for (const r of reports) {
    console.log(`${r.what.slice(0, 28).padEnd(28)} ${r.stepMs.toFixed(1).padStart(8)} ${r.gpuMs.toFixed(1).padStart(8)} ${String(r.dispatches).padStart(11)} ${(r.peakLiveBytes / 2 ** 20).toFixed(2).padStart(9)} ${mix ? (r.peakLiveBytes / mix.peakLiveBytes).toFixed(2).padStart(9) : '        -'} ${(r.peakLiveBytes / child0.peakLiveBytes).toFixed(2).padStart(7)}`);
  }
  for (const r of reports) {
    console.log(`\n${r.what}: where one step's GPU time goes (top ${o.top} of ${r.kernels.length} kernel×shape groups)`);
    for (const k of r.kernels.slice(0, o.top)) console.log(`  ${(100 * k.totalMs / r.gpuMs).toFixed(1).padStart(5)}%  ${k.totalMs.toFixed(2).padStart(8)} ms  ×${String(k.count).padEnd(3)} ${k.kernel} ${k.shape}`);
  }
  if (o.json) writeFileSync(o.json, JSON.stringify({ adapter: dev.adapter, config: o, reports }, null, 2));
  dev.destroy();
}
