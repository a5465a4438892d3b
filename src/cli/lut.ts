/**
 * `wgnas lut`: builds the latency LUT of the NB201, DARTS or MBConv network at one configuration on the
 * attached adapter (every part profiled in isolation with timestamp queries; src/hardware/lut-build.ts
 * for nb201, src/hardware/space-lut.ts for darts and mbconv) and writes it.
 *   wgnas lut [--adapter A] [--space nb201|darts|mbconv] [--channels C] [--cells-per-stage N] [--batch B]
 *             [--dataset fashion-mnist|mnist|cifar10] [--stem-stride 1|2] [--out FILE] [--warmup N] [--repeats N] [--json]
 * The dataset only sets the input shape (channels × height × width) and the class count; no data is read.
 * The network is the search's at the same flags (darts: 3N + 2 cells; mbconv: mbconvSpaceFor).
 */
import { z } from 'zod';
import { DATASET_NAMES, DATASETS } from '../data/dataset.js';
import { buildLut, nb201LutParts, type Nb201LutConfig } from '../hardware/lut-build.js';
import { openProfilingDevice, type ForwardTiming } from '../hardware/measure.js';
import { buildSpaceLut } from '../hardware/space-lut.js';
import { spaceLutParts, type SpaceLutConfig } from '../hardware/space-lut-plan.js';
import type { Device } from '../tensor/device.js';
import { flag, parseArgs, UsageError } from './args.js';
import { progress } from './progress.js';

/** The network-config flags shared by `lut` and `latency` (defaults = the search CLI's defaults). */
export const netFlags = {
  adapter: flag.adapter(),
  space: z.enum(['nb201', 'darts', 'mbconv']).default('nb201'),
  channels: flag.int(1).default(8),
  cellsPerStage: flag.int(1).default(1),
  batch: flag.int(1).default(1),
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  stemStride: z.coerce.number().int().min(1).max(2).default(2),
  warmup: flag.int(0).default(3),
  repeats: flag.int(1).default(10),
  json: flag.bool().default(false),
};

const USAGE = `usage: wgnas lut [--adapter auto|discrete|integrated|cpu|NAME] [--space nb201|darts|mbconv] [--channels C] [--cells-per-stage N]
  [--batch B] [--dataset fashion-mnist|mnist|cifar10] [--stem-stride 1|2] [--out FILE] [--warmup N] [--repeats N] [--json]`;

const Flags = z.object({ ...netFlags, out: z.string().min(1).optional() }).strict();

type NetFlagValues = { space: 'nb201' | 'darts' | 'mbconv'; channels: number; cellsPerStage: number; batch: number; dataset: (typeof DATASET_NAMES)[number]; stemStride: number };

/** The NB201 config the flags describe (darts, mbconv: spaceLutConfigFromFlags). */
export function lutConfigFromFlags(o: NetFlagValues, usage: string): Nb201LutConfig {
  if (o.space !== 'nb201') throw new UsageError(`--space ${o.space}: this is the NB201 config; the ${o.space} network's is spaceLutConfigFromFlags\n${usage}`);
  const d = DATASETS[o.dataset];
  return { space: 'nb201', C: o.channels, N: o.cellsPerStage, inChannels: d.c, H: d.h, W: d.w, classes: d.classes.length, stemStride: o.stemStride, batch: o.batch };
}

/** The DARTS or MBConv network config the flags describe (the search's network at the same flags). */
export function spaceLutConfigFromFlags(o: NetFlagValues, usage: string): SpaceLutConfig {
  if (o.space === 'nb201') throw new UsageError(`--space nb201: use lutConfigFromFlags\n${usage}`);
  const d = DATASETS[o.dataset];
  return { space: o.space, C: o.channels, N: o.cellsPerStage, inChannels: d.c, H: d.h, W: d.w, classes: d.classes.length, stemStride: o.stemStride, batch: o.batch };
}

/**
 * Default LUT file name of a config: runs/lut/nb201-<dataset>-C<C>-s<stride>-b<batch>.json (its keys do
 * not depend on N), runs/lut/<darts|mbconv>-<dataset>-C<C>-N<N>-s<stride>-b<batch>.json.
 */
export function defaultLutPath(o: NetFlagValues): string {
  if (o.space !== 'nb201') return `runs/lut/${o.space}-${o.dataset}-C${o.channels}-N${o.cellsPerStage}-s${o.stemStride}-b${o.batch}.json`;
  return `runs/lut/nb201-${o.dataset}-C${o.channels}-s${o.stemStride}-b${o.batch}.json`;
}

/** Opens the adapter with exact timestamps (see openProfilingDevice) and says how it times. */
export async function openForTiming(adapter: string, log: (l: string) => void): Promise<Device> {
  const { dev, exactTimestamps } = await openProfilingDevice({ adapter });
  const how = dev.profiler.source === 'wall' ? 'wall clock per dispatch (no timestamp-query)'
    : exactTimestamps ? 'timestamp queries' : 'timestamp queries (quantized by Dawn: coarse)';
  log(`adapter: ${dev.adapter.name} [${dev.adapter.kind}] ${dev.adapter.vendor}/${dev.adapter.architecture}; timing: ${how}`);
  return dev;
}

export async function lutCommand(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, Flags, USAGE);
  const cfg: Nb201LutConfig | SpaceLutConfig = o.space === 'nb201' ? lutConfigFromFlags(o, USAGE) : spaceLutConfigFromFlags(o, USAGE);
  const out = o.out ?? defaultLutPath(o);
  const log = progress();
  const dev = await openForTiming(o.adapter, (l) => log.line(l));
  const keys = cfg.space === 'nb201' ? nb201LutParts(cfg).length : spaceLutParts(cfg).length;
  const net = cfg.space === 'nb201' ? 'NB201' : `${cfg.space === 'darts' ? 'DARTS' : 'MBConv'} N=${cfg.N},`;
  log.line(`${net} LUT: C=${cfg.C}, input ${cfg.inChannels}×${cfg.H}×${cfg.W} (${o.dataset}), stem stride ${cfg.stemStride}, batch ${cfg.batch}: ${keys} keys, warm-up ${o.warmup}, ${o.repeats} interleaved repeats each`);
  const t0 = performance.now();
  const rows: { key: string; medianMs: number; p10Ms: number; p90Ms: number; dispatches: number }[] = [];
  const opts = {
    warmup: o.warmup, repeats: o.repeats, out,
    onRound: (r: number, n: number) => log.update(`round ${r + 1}/${n}: every part profiled once`, r + 1 === n),
    onEntry: ({ part, timing }: { part: { key: string }; timing: ForwardTiming }) =>
      rows.push({ key: part.key, medianMs: timing.medianMs, p10Ms: timing.p10Ms, p90Ms: timing.p90Ms, dispatches: timing.dispatches }),
  };
  try {
    if (cfg.space === 'nb201') await buildLut(dev, cfg, opts);
    else await buildSpaceLut(dev, cfg, opts);
  } finally {
    dev.destroy();
  }
  const seconds = (performance.now() - t0) / 1000;
  if (o.json) {
    console.log(JSON.stringify({ out, seconds, config: cfg, entries: rows }, null, 2));
    return;
  }
  const w = Math.max(...rows.map((r) => r.key.length));
  console.log(`${'key'.padEnd(w)}  median ms   p10 ms   p90 ms  dispatches`);
  for (const r of rows) console.log(`${r.key.padEnd(w)}  ${r.medianMs.toFixed(4).padStart(9)} ${r.p10Ms.toFixed(4).padStart(8)} ${r.p90Ms.toFixed(4).padStart(8)}  ${String(r.dispatches).padStart(10)}`);
  console.log(`wrote ${out} (${rows.length} entries) in ${seconds.toFixed(1)} s`);
}
