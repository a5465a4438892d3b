/**
 * `wgnas predictor train|eval`: the GNN latency predictor on a measured table (e.g. HW-NAS-Bench).
 *   node bin/wgnas.js predictor train --table FILE.csv --target COLUMN [--train N] [--seed S] [--epochs E] [--save FILE] [--json]
 *   node bin/wgnas.js predictor eval  --table FILE.csv --target COLUMN [...] --json
 *   node bin/wgnas.js predictor eval  --table FILE.csv --load FILE [--json]
 * --space nb201 (default: NB201 cell strings, the NAS-Bench-201 network) | darts | mbconv: tables of
 * `wgnas latency --space darts|mbconv --sample K --out FILE.csv` (DARTS genotype reprs, MBConv
 * `k3e6-skip-…`), with the network flags that table was measured with (--channels, --cells-per-stage,
 * --dataset, --stem-stride, --batch; defaults = `wgnas latency`'s, the search's). A saved predictor
 * records its space and network; `eval --load` takes them from the file.
 * Both train on N random rows (seeded split) and evaluate on the rest; `eval --load` evaluates a saved
 * predictor on the held-out rows of the split it was trained with (its target, N and seed, unless given).
 * --seed S (default 0) seeds the split, the initial weights and the minibatch order; --epochs defaults to
 * about 1000 Adam steps (defaultEpochs). Rows whose target is blank, not a number, negative, or 0 (no relative error) are skipped and counted.
 * `eval --json` prints exactly { target, n_train, n_test, spearman, kendall, within10, rmse_ms, mape };
 * `train --json` adds the training figures.
 */
import { z } from 'zod';
import { DATASET_NAMES } from '../data/dataset.js';
import { WgnasError } from '../gpu/errors.js';
import { readMetricTable, splitTable, type MetricRow } from '../hardware/table.js';
import {
  DEFAULT_PREDICTOR, loadPredictor, predictorGraphs, savePredictor, type PredictorConfig,
} from '../hardware/predictor.js';
import { PREDICTOR_SPACES, type PredictorSpace, type SpaceGraphs, type SpaceNet } from '../hardware/space-graph.js';
import { DEFAULT_TRAIN, defaultEpochs, evaluatePredictor, fitPredictor } from '../hardware/predictor-train.js';
import { openDevice } from '../tensor/device.js';
import { flag, parseArgs, UsageError } from './args.js';
import { netFlags, spaceLutConfigFromFlags } from './lut.js';
import { progress } from './progress.js';

const USAGE = [
  'usage: wgnas predictor train|eval --table FILE.csv --target COLUMN [--arch-column arch_str] [--train N] [--seed S]',
  '         [--epochs E] [--batch-size B] [--lr X] [--weight-decay W] [--layers L] [--hidden H] [--transform linear|log] [--adapter A] [--json] [--save FILE]',
  '         [--space nb201|darts|mbconv] [--channels C] [--cells-per-stage N] [--dataset fashion-mnist|mnist|cifar10] [--stem-stride 1|2] [--batch B]',
  '       wgnas predictor eval --table FILE.csv --load FILE [--target COLUMN] [--train N] [--seed S] [--json]',
  '  (--space darts|mbconv: the network flags say which network the table was measured on, as for `wgnas latency`;',
  '   --batch is that network\'s batch, --batch-size the training minibatch)',
].join('\n');

/** The network flags (darts, mbconv) and their defaults: `wgnas lut` / `wgnas latency`'s. */
const NET_FLAGS = ['channels', 'cellsPerStage', 'dataset', 'stemStride', 'batch'] as const;
const NET_DEFAULTS = z.object({
  channels: netFlags.channels, cellsPerStage: netFlags.cellsPerStage, dataset: netFlags.dataset, stemStride: netFlags.stemStride, batch: netFlags.batch,
}).parse({});

const Flags = z.object({
  adapter: flag.adapter(),
  table: z.string().min(1),
  target: z.string().min(1).optional(),
  archColumn: z.string().min(1).default('arch_str'),
  train: flag.int(1).optional(),
  seed: flag.int(0).optional(),
  epochs: flag.int(1).optional(),
  batchSize: flag.int(1).default(DEFAULT_TRAIN.batchSize),
  lr: flag.num().positive().default(DEFAULT_TRAIN.lr),
  weightDecay: flag.num().min(0).default(DEFAULT_TRAIN.weightDecay),
  layers: flag.int(1).default(DEFAULT_PREDICTOR.layers),
  hidden: flag.int(1).default(DEFAULT_PREDICTOR.hidden),
  transform: z.enum(['linear', 'log']).default('linear'),
  json: flag.bool().default(false),
  save: z.string().min(1).optional(),
  load: z.string().min(1).optional(),
  space: z.enum(PREDICTOR_SPACES).optional(),
  channels: flag.int(1).optional(),
  cellsPerStage: flag.int(1).optional(),
  dataset: z.enum(DATASET_NAMES).optional(),
  stemStride: z.coerce.number().int().min(1).max(2).optional(),
  batch: flag.int(1).optional(),
}).strict();

type Flags = z.infer<typeof Flags>;

export interface EvalJson {
  target: string;
  n_train: number;
  n_test: number;
  spearman: number;
  kendall: number;
  within10: number;
  rmse_ms: number;
  mape: number;
}

const DEFAULT_N_TRAIN = 1000;
const DEFAULT_SEED = 0;

/** Reads the target column; counts and reports skipped rows (zero targets too: no relative error). */
function readRows(o: Flags, target: string, log: (s: string) => void): MetricRow[] {
  const t = readMetricTable(o.table, { target, archColumn: o.archColumn });
  const rows = t.rows.filter((r) => r.value > 0);
  const zero = t.rows.length - rows.length;
  const skipped = t.skipped + zero;
  if (skipped > 0) {
    const by = t.skippedBy;
    log(`skipped ${skipped} of ${t.rows.length + t.skipped} rows with no usable ${target} (blank ${by.blank}, not a number ${by.nonNumeric}, negative ${by.negative}, zero ${zero})`);
  }
  return rows;
}

const kebab = (s: string): string => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The measured network of a darts/mbconv table from the flags (defaults: NET_DEFAULTS); none for nb201. */
function netOf(o: Flags, space: PredictorSpace): SpaceNet | undefined {
  const given = NET_FLAGS.filter((k) => o[k] !== undefined);
  if (space === 'nb201') {
    if (given.length > 0) throw new UsageError(`--${kebab(given[0])}: the network flags are for --space darts|mbconv; nb201 predictors model the NAS-Bench-201 network (C=16, N=5, 32×32, batch 1)\n${USAGE}`);
    return undefined;
  }
  const v = { ...NET_DEFAULTS, ...Object.fromEntries(given.map((k) => [k, o[k]])) };
  const { space: _, ...net } = spaceLutConfigFromFlags({ ...v, space }, USAGE);
  return net;
}

function netStr(space: PredictorSpace, net: SpaceNet | undefined): string {
  return net ? `${space} C=${net.C} N=${net.N} input ${net.inChannels}×${net.H}×${net.W} stem stride ${net.stemStride} batch ${net.batch}` : `${space} (NAS-Bench-201 network)`;
}

/** Every row's architecture parses in the space at its network; the error names the row and the flags. */
function checkArchs(graphs: SpaceGraphs, net: SpaceNet | undefined, rows: readonly MetricRow[], o: Flags): void {
  for (const r of rows) {
    try {
      graphs.graph(r.arch);
    } catch (e) {
      const shown = r.arch.length > 100 ? `${r.arch.slice(0, 100)}…` : r.arch;
      throw new WgnasError(`--table ${o.table}: the row with ${o.archColumn} "${shown}" is not an architecture of --space ${netStr(graphs.space, net)}: ${(e as Error).message}`);
    }
  }
}

function split(rows: MetricRow[], nTrain: number, seed: number): { train: MetricRow[]; test: MetricRow[] } {
  if (nTrain > rows.length - 1) throw new UsageError(`--train ${nTrain}: the table has ${rows.length} usable rows; at least one must be left for evaluation\n${USAGE}`);
  return splitTable(rows, nTrain, seed);
}

export async function predictorCommand(argv: readonly string[]): Promise<void> {
  const [mode, ...rest] = argv;
  if (mode !== 'train' && mode !== 'eval') throw new UsageError(`predictor: first argument must be train or eval, got ${mode === undefined ? 'nothing' : `"${mode}"`}\n${USAGE}`);
  const o = parseArgs(rest, Flags, USAGE);
  if (o.load && mode !== 'eval') throw new UsageError(`--load is for "predictor eval" (train makes a new predictor)\n${USAGE}`);
  if (o.load && o.save) throw new UsageError(`--save cannot be combined with --load\n${USAGE}`);
  const p = progress();
  const log = (s: string): void => p.line(s);

  if (o.load) return evalSaved(o, log);
  if (!o.target) throw new UsageError(`--target: required (the table column to predict, e.g. edgegpu_latency)\n${USAGE}`);
  const target = o.target;
  const space = o.space ?? DEFAULT_PREDICTOR.space;
  const net = netOf(o, space);
  const graphs = predictorGraphs({ space, net });
  const rows = readRows(o, target, log);
  checkArchs(graphs, net, rows, o);
  const nTrain = o.train ?? DEFAULT_N_TRAIN;
  const seed = o.seed ?? DEFAULT_SEED;
  const { train, test } = split(rows, nTrain, seed);

  const dev = await openDevice({ adapter: o.adapter });
  try {
    log(`adapter: ${dev.adapter.name} [${dev.adapter.kind}]; ${netStr(space, net)}; ${target}: ${train.length} train / ${test.length} test architectures`);
    const epochs = o.epochs ?? defaultEpochs(train.length, o.batchSize);
    const { pred, cfg, train: opts, result: tr } = await fitPredictor(dev, train, {
      space, net, layers: o.layers, hidden: o.hidden, transform: o.transform, epochs, batchSize: o.batchSize, lr: o.lr, weightDecay: o.weightDecay, seed,
      logEvery: Math.max(1, Math.round(epochs / 20)),
      log: (e, l) => p.update(`epoch ${e}/${epochs}  loss ${l.toFixed(5)}`, e === epochs),
    });
    const ev = await evaluatePredictor(pred, test.map((r) => r.arch), test.map((r) => r.value));
    const result = evalJson(target, train.length, ev);
    if (o.save) {
      await savePredictor(o.save, pred, { table: o.table, target, archColumn: o.archColumn, n_train: train.length, seed, train: opts, metrics: result });
      log(`saved predictor to ${o.save}`);
    }
    if (mode === 'eval' && o.json) console.log(JSON.stringify(result));
    else if (o.json) console.log(JSON.stringify({ ...result, train_seconds: tr.seconds, eval_seconds: ev.seconds, final_loss: tr.finalLoss, steps: tr.steps, config: cfg, train_options: opts }, null, 2));
    else log(summary(result, `trained in ${tr.seconds.toFixed(1)} s (${tr.steps} steps)`));
    pred.dispose();
  } finally {
    dev.destroy();
  }
}

async function evalSaved(o: Flags, log: (s: string) => void): Promise<void> {
  const dev = await openDevice({ adapter: o.adapter });
  try {
    const { predictor, meta } = loadPredictor(dev, o.load!);
    checkLoadedNet(o, predictor.cfg);
    const target = o.target ?? (typeof meta.target === 'string' ? meta.target : undefined);
    if (!target) throw new UsageError(`--target: required (${o.load} does not record its target column)\n${USAGE}`);
    const rows = readRows(o, target, log);
    checkArchs(predictor.graphs, predictor.cfg.net, rows, o);
    const nTrain = o.train ?? (typeof meta.n_train === 'number' ? meta.n_train : 0);
    const seed = o.seed ?? (typeof meta.seed === 'number' ? meta.seed : DEFAULT_SEED);
    const { train, test } = nTrain > 0 ? split(rows, nTrain, seed) : { train: [], test: rows };
    log(`loaded ${o.load}; evaluating on ${test.length} held-out ${target} rows (split: ${train.length} train, seed ${seed})`);
    const ev = await evaluatePredictor(predictor, test.map((r) => r.arch), test.map((r) => r.value));
    const result = evalJson(target, train.length, ev);
    if (o.json) console.log(JSON.stringify(result));
    else log(summary(result, `evaluated in ${ev.seconds.toFixed(1)} s`));
    predictor.dispose();
  } finally {
    dev.destroy();
  }
}

/** The network fields each flag sets. */
const NET_FIELDS: Record<(typeof NET_FLAGS)[number], readonly (keyof SpaceNet)[]> = {
  channels: ['C'], cellsPerStage: ['N'], dataset: ['inChannels', 'H', 'W', 'classes'], stemStride: ['stemStride'], batch: ['batch'],
};

/** --space and the network flags given with --load must be the saved predictor's. */
function checkLoadedNet(o: Flags, cfg: PredictorConfig): void {
  if (o.space !== undefined && o.space !== cfg.space) throw new UsageError(`--space ${o.space}: ${o.load} is a ${cfg.space} predictor\n${USAGE}`);
  const net = netOf(o, cfg.space); // throws for network flags with nb201
  for (const k of NET_FLAGS) {
    if (o[k] !== undefined && NET_FIELDS[k].some((f) => net?.[f] !== cfg.net?.[f])) {
      throw new UsageError(`--${kebab(k)} ${o[k]}: ${o.load} was trained on ${netStr(cfg.space, cfg.net)} (leave the network flags out with --load)\n${USAGE}`);
    }
  }
}

function evalJson(target: string, nTrain: number, ev: { n: number; spearman: number; kendall: number; within10: number; rmse: number; mape: number }): EvalJson {
  if (ev.n === 0) throw new WgnasError('predictor: no test architectures');
  return { target, n_train: nTrain, n_test: ev.n, spearman: ev.spearman, kendall: ev.kendall, within10: ev.within10, rmse_ms: ev.rmse, mape: ev.mape };
}

function summary(r: EvalJson, how: string): string {
  return `${r.target}: ${r.n_train} train / ${r.n_test} test  Spearman ${r.spearman.toFixed(4)}  Kendall ${r.kendall.toFixed(4)}  within ±10% ${(100 * r.within10).toFixed(1)}%  RMSE ${r.rmse_ms.toFixed(4)} ms  MAPE ${(100 * r.mape).toFixed(2)}%  (${how})`;
}
