/**
 * `node search.js` / `wgnas search`: architecture search on the GPU, end to end — search, derive,
 * retrain from scratch, evaluate, write DIR/result.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DATASET_NAMES, DATASETS, loadDataset } from '../data/dataset.js';
import { GpuDataset } from '../data/gpu-dataset.js';
import { evaluate, trainClassifier } from '../nn/train.js';
import { Nb201Table } from '../nas/nb201-table.js';
import { SAMPLERS } from '../nas/samplers.js';
import { secondOrderProblem, SupernetSearch, splitImageSet } from '../nas/search.js';
import { calibrateToTarget, deriveToModelTarget, linearizedCost } from '../nas/budget-derive.js';
import { selectedCost, selectionOneHot, spaceBinding, SPACES, type SpaceBinding } from '../nas/space-binding.js';
import { buildLut, lutNetworkMs, type Nb201LutConfig } from '../hardware/lut-build.js';
import { buildSpaceLut } from '../hardware/space-lut.js';
import { spaceLatencyTable, spaceLutNetworkMs, type SpaceLutConfig } from '../hardware/space-lut-plan.js';
import { loadLut, type LatencyLut } from '../hardware/lut.js';
import { measureNetworkLatencies, measureNetworkLatency } from '../hardware/measure.js';
import { predictLatencyFromProbs, predictLatencyRelaxed } from '../hardware/predictor.js';
import { fitPredictor, predictLatencies } from '../hardware/predictor-train.js';
import { readMetricTable, splitTable } from '../hardware/table.js';
import { latencyTable, type CostTerm } from '../nas/hardware-cost.js';
import { parseNb201 } from '../nas/spaces/nb201.js';
import { openDevice, type Device } from '../tensor/device.js';
import { flag, parseArgs, UsageError } from './args.js';
import { progress, type Progress } from './progress.js';
import { searchKnobs } from './remeasure.js';

const USAGE = `usage: node search.js [--adapter auto|discrete|integrated|cpu|NAME] [--space nb201|darts|mbconv]
  [--sampler ordered|gumbel|binary|mixture] [--optim one-level|bi-level] [--second-order] [--dataset fashion-mnist|mnist|cifar10]
  [--data-dir DIR] [--epochs N] [--warmup-epochs N] [--exclude-none true|false] [--retrain-epochs N] [--train-subset N] [--channels C] [--cells-per-stage N]
  [--stem-stride 1|2] [--batch-size B] [--lr X] [--arch-lr X] [--identity-weight MU] [--complexity-weight LAMBDA]
  [--hardware adapter|lut:FILE|table:FILE:COLUMN] [--cost latency|energy|flops|params|memory] [--cost-weight KAPPA]
  [--target VALUE] [--target-tolerance F] [--latency-batch B] [--seed S] [--out DIR] [--resume]
  λ (complexity) weights expected multiply-adds in millions; κ weights the --cost: ms for latency (LUT
  measured on the adapter, a LUT file, or a predictor trained on a table), millions for flops/params
  (flops = multiply-adds), MB (10⁶ bytes) for memory: the float32 activations a training forward leaves
  allocated for backward at batch 1 (analytic; × batch size for larger batches). --target is a budget in the same
  unit for the whole network: the search pulls the derived architecture to it and derives the most
  likely one within ±target-tolerance.`;

export const SearchFlags = z.object({
  adapter: flag.adapter(),
  space: z.enum(SPACES).default('nb201'),
  sampler: z.enum(SAMPLERS).default('ordered'),
  optim: z.enum(['one-level', 'bi-level']).default('one-level'),
  secondOrder: flag.bool().default(false),
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  dataDir: z.string().optional(),
  epochs: flag.int(1).default(4),
  warmupEpochs: flag.int(0).default(1),
  excludeNone: flag.bool().default(true),
  retrainEpochs: flag.int(0).default(4),
  trainSubset: flag.int(2).default(12_000),
  channels: flag.int(2).default(8),
  cellsPerStage: flag.int(1).default(1),
  stemStride: z.coerce.number().int().min(1).max(2).default(2),
  batchSize: flag.int(2).default(64),
  lr: flag.num().positive().default(0.05),
  archLr: flag.num().positive().default(3e-3),
  identityWeight: flag.num().min(0).default(0.5),
  complexityWeight: flag.num().min(0).default(0),
  hardware: z.string().regex(/^(adapter|lut:.+|table:.+:.+)$/, 'expected adapter, lut:FILE or table:FILE:COLUMN').default('adapter'),
  cost: z.enum(['latency', 'energy', 'flops', 'params', 'memory']).default('latency'),
  costWeight: flag.num().min(0).default(0),
  target: flag.num().positive().optional(),
  targetTolerance: flag.num().min(0).max(0.5).default(0.05),
  latencyBatch: flag.int(1).default(1),
  seed: flag.int(0).default(1),
  out: z.string().default('runs/search'),
  resume: flag.bool().default(false),
}).strict();

export type SearchFlagValues = z.infer<typeof SearchFlags>;

export async function searchCommand(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, SearchFlags, USAGE);
  const secondOrder = secondOrderProblem(o);
  if (secondOrder) throw new UsageError(secondOrder);
  const log = progress();
  const dev = await openDevice({ adapter: o.adapter });
  log.line(`adapter: ${dev.adapter.name} [${dev.adapter.kind}]  space ${o.space}  sampler ${o.sampler}  ${o.optim}  dataset ${o.dataset}`);
  mkdirSync(o.out, { recursive: true });
  const info = DATASETS[o.dataset];
  const trainSet = loadDataset(o.dataset, { split: 'train', dir: o.dataDir, limit: o.trainSubset });
  const [wPart, aPart] = o.optim === 'bi-level' ? splitImageSet(trainSet) : [trainSet, undefined];
  const train = new GpuDataset(dev, { ...wPart, name: o.dataset }, { seed: o.seed });
  const val = aPart ? new GpuDataset(dev, { ...aPart, name: o.dataset }, { seed: o.seed + 1 }) : undefined;
  const space = spaceBinding(o.space, dev, searchKnobs(o));
  const lutCfg = { space: 'nb201' as const, C: o.channels, N: o.cellsPerStage, inChannels: info.c, H: info.h, W: info.w, classes: info.classes.length, stemStride: o.stemStride, batch: o.latencyBatch };
  const terms: CostTerm[] = [];
  if (o.complexityWeight > 0) terms.push({ name: 'flops', weight: o.complexityWeight, table: space.costTable('flops'), norm: 1e6 });
  let latencyLut: LatencyLut | undefined;
  if (o.costWeight > 0 || o.target !== undefined) {
    terms.push(await hardwareTerm(o, dev, space, lutCfg, log, (l) => (latencyLut = l)));
  }
  const search = new SupernetSearch(dev, {
    sampler: o.sampler, optim: o.optim, secondOrder: o.secondOrder, epochs: o.epochs, warmupEpochs: o.warmupEpochs, excludeNone: o.excludeNone, batchSize: o.batchSize,
    seed: o.seed, lr: o.lr, archLr: o.archLr, targetTolerance: o.targetTolerance, identityWeight: o.identityWeight, terms,
    out: join(o.out, 'checkpoint'), resume: o.resume, log: (l: string, f: boolean) => log.update(l, f),
  }, space);
  let found = await search.run(train, val);
  search.dispose();
  const budgetTerm = terms.find((t) => t.target !== undefined && t.table);
  if (budgetTerm && latencyLut && o.cost === 'latency') {
    // the adapter is attached: measure the derived network and recalibrate the table until it lands
    const shape = [o.latencyBatch, info.c, info.h, info.w];
    found = { ...found, ...(await calibrateToTarget(space, found.alphaHistory.at(-1)!, budgetTerm, { tolerance: o.targetTolerance, excludeNone: o.excludeNone }, async (ds) => {
      const nets = ds.map((d) => space.child(d));
      try {
        // LATENCY_PROTOCOL: the median of 3 sessions also rejects the first one after training, which reads up to 2× high
        const ms = await measureNetworkLatencies(dev, nets, shape);
        ds.forEach((d, i) => log.line(`  budget: ${d.archStr} measures ${ms[i].medianMs.toFixed(3)} ms${ds.length > 1 ? ` (${ds.length} candidates measured together)` : ''}`));
        return ms.map((m) => m.medianMs);
      } finally {
        for (const n of nets) n.dispose();
      }
    })) };
  }
  const modelTerm = terms.find((t) => t.target !== undefined && t.predictor);
  if (modelTerm) {
    // a device that is not attached: its cost model (the GNN) prices architectures exactly, and its
    // linearisation at an architecture gives the additive table the budgeted derivation needs
    const pred = modelTerm.predictor!;
    found = { ...found, ...(await deriveToModelTarget(space, found.alphaHistory.at(-1)!, modelTerm, { tolerance: o.targetTolerance, excludeNone: o.excludeNone },
      async (d) => {
        const at = selectionOneHot(space, space.selection(d));
        const P = dev.tensor(at, [space.rows, space.cols], { requiresGrad: true });
        try {
          const y = predictLatencyFromProbs(pred, P);
          const value = (await y.read())[0];
          await y.backward();
          return linearizedCost(space, at, value, await P.grad!.read());
        } finally {
          P.dispose();
        }
      },
      async (d) => (await predictLatencies(pred, [d.archStr]))[0])) };
  }
  train.dispose();
  val?.dispose();
  log.line(`derived ${o.space === 'mbconv' ? 'layers' : 'cell'}: ${found.archStr}`);
  if (found.budget) {
    const b = found.budget;
    const exact = b.by === 'model' ? `, ${modelTerm!.name} by the model ${b.measured!.toPrecision(4)}` : b.measured !== undefined ? `, measured ${b.measured.toPrecision(4)}` : '';
    log.line(`  under the budget [${b.lo.toPrecision(4)}, ${b.hi.toPrecision(4)}]: table ${b.cost.toPrecision(4)}${b.scale !== 1 ? ` (× ${b.scale.toFixed(3)})` : ''}${exact}${b.inBudget ? '' : ' (no architecture in the band: the nearest)'}; unconstrained argmax ${b.argmax}`);
  }

  // retrain the derived network from scratch on the full training split, then test
  const full = GpuDataset.load(dev, o.dataset, { split: 'train', dir: o.dataDir, seed: o.seed, augment: o.dataset === 'cifar10' ? { pad: 4, flip: true } : undefined });
  const test = GpuDataset.load(dev, o.dataset, { split: 'test', dir: o.dataDir });
  const child = space.child(found);
  const rt = o.retrainEpochs > 0
    ? await trainClassifier(child, full, { epochs: o.retrainEpochs, batchSize: o.batchSize, optimizer: 'sgd', lr: o.lr, augment: o.dataset === 'cifar10', log: (l, f) => log.update(`retrain ${l}`, f) })
    : { seconds: 0, peakLiveBytes: 0, imagesPerSecond: 0, epochs: [] };
  const ev = await evaluate(child, test, 256);
  const cost = space.cost(found);
  // LATENCY_PROTOCOL's 30 repeats: batch-1 latency on a shared CPU adapter has a long tail (p90 up to 2× the median)
  const measured = await measureNetworkLatency(dev, child, [o.latencyBatch, info.c, info.h, info.w]);
  const predicted: Record<string, number> = {};
  for (const t of terms) {
    if (t.table) predicted[t.name] = (t.offset ?? 0) + selectedCost(space, t.table, found);
    if (t.predictor) predicted[t.name] = (await predictLatencies(t.predictor, [found.archStr]))[0];
  }
  if (latencyLut) {
    predicted.latency_ms_lut_network = o.space === 'nb201'
      ? lutNetworkMs(latencyLut, lutCfg, parseNb201(found.archStr))
      : spaceLutNetworkMs(latencyLut, { ...lutCfg, space: o.space }, found.arch);
  }
  let benchmark: Record<string, number> | undefined;
  if (o.space === 'nb201') try {
    const table = Nb201Table.load();
    benchmark = { cifar10: table.accuracy(found.archStr, 'cifar10'), cifar100: table.accuracy(found.archStr, 'cifar100'), 'ImageNet16-120': table.accuracy(found.archStr, 'ImageNet16-120') };
  } catch (e) {
    log.line(`(NAS-Bench-201 table not found, benchmark accuracy not looked up: ${(e as Error).message.split('\n')[0]})`);
  }
  const result = {
    space: o.space,
    sampler: o.sampler,
    optim: o.optim,
    dataset: o.dataset,
    seed: o.seed,
    genotype: found.arch,
    arch_str: found.archStr,
    search_seconds: found.seconds,
    retrain_seconds: rt.seconds,
    test_accuracy: ev.accuracy,
    params: child.numParameters(),
    flops: 2 * cost.flops,
    activation_bytes_per_sample: 4 * cost.activations,
    peak_gpu_bytes: found.peakLiveBytes,
    budget: found.budget,
    cost_terms: terms.map((t) => ({ name: t.name, weight: t.weight, target: t.target, offset: t.offset })),
    predicted_cost: predicted,
    measured_latency_ms: { batch: o.latencyBatch, median: measured.medianMs, p10: measured.p10Ms, p90: measured.p90Ms, source: measured.source },
    retrain_peak_gpu_bytes: rt.peakLiveBytes,
    adapter: { name: dev.adapter.name, kind: dev.adapter.kind, vendor: dev.adapter.vendor, architecture: dev.adapter.architecture, description: dev.adapter.description },
    nb201_benchmark_accuracy: benchmark,
    config: o,
    alpha_history: found.alphaHistory,
  };
  writeFileSync(join(o.out, 'result.json'), JSON.stringify(result, null, 2));
  log.line(`measured latency (batch ${o.latencyBatch}) ${measured.medianMs.toFixed(3)} ms  predicted ${JSON.stringify(predicted)}`);
  log.line(`test accuracy ${(100 * ev.accuracy).toFixed(2)}%  ${o.space} ${found.archStr}${benchmark ? `  (NB201 CIFAR-10 ${benchmark.cifar10.toFixed(2)}%)` : ''}  → ${join(o.out, 'result.json')}`);
  child.dispose();
  full.dispose();
  test.dispose();
  dev.destroy();
}

/** The κ term: a LUT measured now on the adapter, a LUT file, a predictor trained on a table, or FLOPs/params/memory. */
async function hardwareTerm(o: SearchFlagValues, dev: Device, space: SpaceBinding, lutCfg: Nb201LutConfig, log: Progress, keepLut: (l: LatencyLut) => void): Promise<CostTerm> {
  const base = { weight: o.costWeight, target: o.target };
  if (o.cost === 'flops' || o.cost === 'params') {
    // tables in multiply-adds / parameters; κ and --target in millions
    return { ...base, target: o.target === undefined ? undefined : o.target * 1e6, name: o.cost, table: space.costTable(o.cost), norm: 1e6, offset: space.fixedCost(o.cost) };
  }
  if (o.cost === 'memory') {
    // a table of activation elements per sample; κ and --target in MB of float32 at batch 1 (2.5·10⁵ elements)
    const perMB = 1e6 / 4;
    return { ...base, target: o.target === undefined ? undefined : o.target * perMB, name: 'activations', table: space.costTable('activations'), norm: perMB, offset: space.fixedCost('activations') };
  }
  if (o.hardware.startsWith('table:')) {
    // a device that is not attached: a GNN predictor trained on its measured table, differentiable in α
    const [, file, column] = /^table:(.+):([^:]+)$/.exec(o.hardware)!;
    // a latency column: e.g. HW-NAS-Bench's edgegpu_latency, or measured_ms of `wgnas latency --sample`
    if (o.cost === 'energy' ? !/energy/.test(column) : !/latency|_ms$/.test(column)) {
      throw new UsageError(`--cost ${o.cost} with --hardware ${o.hardware}: the column "${column}" does not look like a${o.cost === 'energy' ? 'n energy' : ' latency'} column`);
    }
    const table = readMetricTable(file, { target: column });
    const rows = splitTable(table.rows, Math.min(1000, table.rows.length), o.seed).train;
    log.line(`training a latency predictor on ${rows.length} rows of ${file} (${column}; ${table.skipped} rows skipped) …`);
    // the table's architectures are of the searched space, measured on the search's network (darts, mbconv: e.g.
    // `wgnas latency --space S --sample K` on the target device)
    const { space: _, ...net } = lutCfg;
    const { pred } = await fitPredictor(dev, rows, { seed: o.seed, space: o.space, net: o.space === 'nb201' ? undefined : net });
    pred.freeze();
    return { ...base, name: column, fn: (alpha) => predictLatencyRelaxed(pred, alpha), norm: 1, predictor: pred };
  }
  if (o.cost === 'energy') throw new UsageError('--cost energy needs --hardware table:FILE:COLUMN with an energy column');
  let lut: LatencyLut;
  const spaceCfg: SpaceLutConfig | undefined = o.space === 'nb201' ? undefined : { ...lutCfg, space: o.space };
  if (o.hardware === 'adapter') {
    log.line(`measuring a latency table on ${dev.adapter.name} (batch ${o.latencyBatch}) …`);
    lut = spaceCfg ? await buildSpaceLut(dev, spaceCfg, { warmup: 3, repeats: 10 }) : await buildLut(dev, lutCfg, { warmup: 3, repeats: 10 });
  } else {
    lut = loadLut(o.hardware.slice(4));
    log.line(`latency table of ${lut.adapter.description || lut.adapter.device} (${Object.keys(lut.entries).length} entries)`);
  }
  keepLut(lut);
  if (spaceCfg) {
    // DARTS / MBConv: every candidate and fixed part timed in isolation (space-lut.ts)
    const { table, offset } = spaceLatencyTable(lut, spaceCfg);
    return { ...base, name: 'latency_ms', table, norm: 1, offset };
  }
  // the fixed parts (stem, reductions, head, node sums): the network latency of an all-skip cell
  const offset = lutNetworkMs(lut, lutCfg, parseNb201('|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|'));
  return { ...base, name: 'latency_ms', table: latencyTable(lut, lutCfg), norm: 1, offset };
}
