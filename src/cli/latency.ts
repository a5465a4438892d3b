/**
 * `wgnas latency`: whole-network inference latency of NB201 child networks on the attached adapter
 * (`--space darts|mbconv`: DARTS / MBConv children, src/cli/space-latency.ts).
 *   wgnas latency --arch ARCH_STR [--lut FILE] [net flags] [--json]
 *       measures one child network (GPU time = Σ dispatch times, and wall time); with --lut also its LUT sum
 *   wgnas latency --sample K [--lut FILE] [--seed S] [--out FILE.csv] [net flags] [--json]
 *       measures K distinct random cells; with --lut compares with the LUT sums (MAPE, Spearman, mean
 *       ratio) and writes the rows as CSV: arch_str, measured_ms, lut_ms, wall_ms, dispatches (the input
 *       of `predictor train --table FILE.csv --target measured_ms`)
 *   wgnas latency --results A/result.json,B/result.json [--json]
 *       re-measures the architectures searches found, with their own networks, beside their targets
 *       and the search's own measurements (src/cli/remeasure.ts)
 * Net flags (as `wgnas lut`): --channels --cells-per-stage --batch --dataset --stem-stride. Timing flags
 * --warmup --repeats --settle --sessions default to LATENCY_PROTOCOL, the protocol of every "measured latency".
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { adapterIdentity, loadLut, type LatencyLut } from '../hardware/lut.js';
import {
  latencyCsv, lutErrorReport, lutNetworkMs, measureNb201Archs, sampleNb201Archs, type LatencyRow, type Nb201LutConfig,
} from '../hardware/lut-build.js';
import { NB201_NUM_ARCHS, nb201NetworkCost, parseNb201, type Nb201Arch } from '../nas/spaces/nb201.js';
import { convOut } from '../nas/spaces/common.js';
import { LATENCY_PROTOCOL } from '../hardware/measure.js';
import { flag, parseArgs, UsageError } from './args.js';
import { lutConfigFromFlags, netFlags, openForTiming } from './lut.js';
import { progress } from './progress.js';
import { formatRemeasured, remeasureResults } from './remeasure.js';
import { spaceLatencyCommand } from './space-latency.js';

const USAGE = `usage: wgnas latency (--arch ARCH_STR | --sample K) [--lut FILE] [--seed S] [--out FILE.csv] [--adapter A] [--space nb201|darts|mbconv]
  [--channels C] [--cells-per-stage N] [--batch B] [--dataset fashion-mnist|mnist|cifar10] [--stem-stride 1|2]
  [--warmup N] [--repeats N] [--settle N] [--sessions N] [--json]
       wgnas latency --results DIR/result.json[,DIR2/result.json…] [--adapter A] [--warmup N] [--repeats N] [--settle N] [--sessions N] [--json]
  (re-measures the architectures searches found, with their networks, beside their targets)
  Timing defaults are the latency protocol of the search: 3 sessions (the median one reported) of warm-up 5,
  30 interleaved repeats, 1 settle forward before each.`;

const Flags = z.object({
  ...netFlags,
  warmup: flag.int(0).default(LATENCY_PROTOCOL.warmup),
  repeats: flag.int(1).default(LATENCY_PROTOCOL.repeats),
  settle: flag.int(0).default(LATENCY_PROTOCOL.settle),
  sessions: flag.int(1).default(LATENCY_PROTOCOL.sessions),
  arch: z.string().min(1).optional(),
  results: z.string().min(1).optional(),
  sample: flag.int(2).max(NB201_NUM_ARCHS).optional(),
  lut: z.string().min(1).optional(),
  seed: flag.int(0).default(1),
  out: z.string().min(1).optional(),
}).strict();

type Opts = z.infer<typeof Flags>;

function defaultCsvPath(o: Opts, cfg: Nb201LutConfig): string {
  return `runs/latency/nb201-${o.dataset}-C${cfg.C}-N${cfg.N}-s${cfg.stemStride}-b${cfg.batch}-sample${o.sample}-seed${o.seed}.csv`;
}

/** Multiply-adds of the child network (the analytic cost at the cells' resolution). */
function networkMacs(cfg: Nb201LutConfig, arch: Nb201Arch): number {
  const H = convOut(cfg.H, 3, cfg.stemStride, 1);
  const W = convOut(cfg.W, 3, cfg.stemStride, 1);
  return nb201NetworkCost(arch, { C: cfg.C, N: cfg.N, H, W, inChannels: cfg.inChannels, classes: cfg.classes }).flops * cfg.batch;
}

export async function latencyCommand(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, Flags, USAGE);
  if (o.results !== undefined) return resultsCommand(o);
  if (o.space !== 'nb201') return spaceLatencyCommand(o, USAGE);
  const cfg = lutConfigFromFlags(o, USAGE);
  if ((o.arch === undefined) === (o.sample === undefined)) throw new UsageError(`give exactly one of --arch ARCH_STR or --sample K\n${USAGE}`);
  if (o.arch !== undefined && o.out !== undefined) throw new UsageError(`--out writes the CSV of --sample; with --arch use --json\n${USAGE}`);
  let archs: Nb201Arch[];
  try {
    archs = o.arch !== undefined ? [parseNb201(o.arch)] : sampleNb201Archs(o.sample!, o.seed);
  } catch (e) {
    throw new UsageError(`--arch: ${(e as Error).message}\n${USAGE}`);
  }
  const log = progress();
  const dev = await openForTiming(o.adapter, (l) => log.line(l));
  try {
    let lut: LatencyLut | undefined;
    if (o.lut) {
      lut = loadLut(o.lut, adapterIdentity(dev.adapter));
      for (const a of archs) lutNetworkMs(lut, cfg, a); // every key present before any timing
    }
    const t0 = performance.now();
    const rows = await measureNb201Archs(dev, cfg, archs, {
      lut, warmup: o.warmup, repeats: o.repeats, settle: o.settle, sessions: o.sessions, seed: o.seed,
      onRound: (r, n) => log.update(`round ${r + 1}/${n}: ${archs.length} networks profiled`, r + 1 === n),
    });
    const seconds = (performance.now() - t0) / 1000;
    if (o.arch !== undefined) reportOne(o, cfg, archs[0], rows[0], seconds);
    else reportSample(o, cfg, rows, lut !== undefined, seconds);
  } finally {
    dev.destroy();
  }
}

async function resultsCommand(o: Opts): Promise<void> {
  if (o.arch !== undefined || o.sample !== undefined || o.lut !== undefined || o.out !== undefined) {
    throw new UsageError(`--results re-measures search results with their own networks: drop --arch, --sample, --lut and --out\n${USAGE}`);
  }
  const files = o.results!.split(',').map((f) => f.trim()).filter((f) => f.length > 0);
  const log = progress();
  const dev = await openForTiming(o.adapter, (l) => log.line(l));
  try {
    const rows = await remeasureResults(dev, files, {
      warmup: o.warmup, repeats: o.repeats, settle: o.settle, sessions: o.sessions,
      onRound: (r, n) => log.update(`round ${r + 1}/${n}: ${files.length} networks profiled`, r + 1 === n),
    });
    if (o.json) console.log(JSON.stringify(rows, null, 2));
    else console.log(formatRemeasured(rows));
  } finally {
    dev.destroy();
  }
}

function reportOne(o: Opts, cfg: Nb201LutConfig, arch: Nb201Arch, r: LatencyRow, seconds: number): void {
  const macs = networkMacs(cfg, arch);
  const result = { ...r, batch: cfg.batch, input: [cfg.batch, cfg.inChannels, cfg.H, cfg.W], macs, gflops_per_s: (2 * macs) / (r.measured_ms * 1e6), seconds };
  if (o.json) {
    console.log(JSON.stringify(result, (_, v) => (Number.isNaN(v) ? null : v), 2));
    return;
  }
  console.log(`${r.arch_str}`);
  console.log(`  input ${result.input.join('×')}, ${(macs / 1e6).toFixed(2)} M multiply-adds, ${r.dispatches} dispatches`);
  console.log(`  GPU time ${r.measured_ms.toFixed(3)} ms (Σ of per-dispatch medians over ${o.repeats} repeats; fastest ${r.measured_min_ms.toFixed(3)} ms), ` +
    `wall ${r.wall_ms.toFixed(3)} ms, ${result.gflops_per_s.toFixed(2)} GFLOP/s`);
  if (!Number.isNaN(r.lut_ms)) console.log(`  LUT sum ${r.lut_ms.toFixed(3)} ms (${(100 * (r.lut_ms / r.measured_ms - 1)).toFixed(1)}% vs measured)`);
}

function reportSample(o: Opts, cfg: Nb201LutConfig, rows: LatencyRow[], withLut: boolean, seconds: number): void {
  const out = o.out ?? defaultCsvPath(o, cfg);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, latencyCsv(rows));
  const report = withLut ? lutErrorReport(rows) : undefined;
  if (o.json) {
    console.log(JSON.stringify({ csv: out, seconds, config: cfg, report, rows }, (_, v) => (Number.isNaN(v) ? null : v), 2));
    return;
  }
  const ms = rows.map((r) => r.measured_ms).sort((a, b) => a - b);
  console.log(`${rows.length} architectures measured in ${seconds.toFixed(1)} s; GPU time ${ms[0].toFixed(3)} … ${ms[ms.length - 1].toFixed(3)} ms`);
  if (report) {
    console.log(`LUT sum vs measured: MAPE ${(100 * report.mape).toFixed(1)}%, Spearman ${report.spearman.toFixed(3)}, Kendall ${report.kendall.toFixed(3)}, ` +
      `within ±10% ${(100 * report.within10).toFixed(0)}%, mean ratio LUT/measured ${report.meanRatio.toFixed(3)}`);
  }
  console.log(`wrote ${out}`);
}
