/**
 * `wgnas latency --space darts|mbconv`: whole-network inference latency of DARTS or MBConv child
 * networks (the search's network at the same flags), and with --lut FILE (from `wgnas lut --space …`)
 * the LUT sums next to them: MAPE, rank correlation, mean ratio; rows written as CSV (arch strings with
 * commas — DARTS genotypes — are quoted).
 *   --arch: a DARTS genotype (Python repr or JSON) or an MBConv string `k3e6-skip-…`
 *   --sample K: K distinct random architectures (DARTS: 2 distinct non-'none' inputs per node, as derived)
 *   --lut now: time the LUT's parts in the same interleaved rounds as the networks (no file), so that
 *     load drift on a shared machine does not show up as LUT error
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { adapterIdentity, loadLut, type LatencyLut } from '../hardware/lut.js';
import { lutErrorReport, type LatencyRow } from '../hardware/lut-build.js';
import { measureSpaceArchs, sampleSpaceArchs, spaceLatencyCsv } from '../hardware/space-lut.js';
import { mbconvLutSpace, spaceLutNetworkMs, type SpaceArch, type SpaceLutConfig } from '../hardware/space-lut-plan.js';
import { genotypeFromJson } from '../nas/spaces/darts.js';
import { parseGenotype } from '../nas/spaces/darts-format.js';
import { parseMbconv } from '../nas/spaces/mbconv.js';
import { UsageError } from './args.js';
import { openForTiming, spaceLutConfigFromFlags } from './lut.js';
import { progress } from './progress.js';

/** The `latency` flags this command reads. */
export interface SpaceLatencyFlags {
  adapter: string;
  space: 'nb201' | 'darts' | 'mbconv';
  channels: number;
  cellsPerStage: number;
  batch: number;
  dataset: Parameters<typeof spaceLutConfigFromFlags>[0]['dataset'];
  stemStride: number;
  warmup: number;
  repeats: number;
  settle: number;
  sessions: number;
  json: boolean;
  arch?: string;
  sample?: number;
  lut?: string;
  seed: number;
  out?: string;
}

/** A DARTS genotype (Python repr or JSON) or an MBConv arch string, checked against the network. */
export function parseSpaceArch(cfg: SpaceLutConfig, str: string): SpaceArch {
  if (cfg.space === 'mbconv') return parseMbconv(str, mbconvLutSpace(cfg));
  return str.trimStart().startsWith('{') ? genotypeFromJson(str) : parseGenotype(str);
}

export async function spaceLatencyCommand(o: SpaceLatencyFlags, usage: string): Promise<void> {
  const cfg = spaceLutConfigFromFlags(o, usage);
  if ((o.arch === undefined) === (o.sample === undefined)) throw new UsageError(`give exactly one of --arch ARCH_STR or --sample K\n${usage}`);
  if (o.arch !== undefined && o.out !== undefined) throw new UsageError(`--out writes the CSV of --sample; with --arch use --json\n${usage}`);
  let archs: SpaceArch[];
  try {
    archs = o.arch !== undefined ? [parseSpaceArch(cfg, o.arch)] : sampleSpaceArchs(cfg, o.sample!, o.seed);
  } catch (e) {
    throw new UsageError(`--arch: ${(e as Error).message}\n${usage}`);
  }
  const log = progress();
  const dev = await openForTiming(o.adapter, (l) => log.line(l));
  try {
    let lut: LatencyLut | 'now' | undefined;
    if (o.lut && o.lut !== 'now') {
      lut = loadLut(o.lut, adapterIdentity(dev.adapter));
      for (const a of archs) spaceLutNetworkMs(lut, cfg, a); // every key present before any timing
    } else if (o.lut === 'now') lut = 'now';
    const t0 = performance.now();
    const { rows } = await measureSpaceArchs(dev, cfg, archs, {
      lut, warmup: o.warmup, repeats: o.repeats, settle: o.settle, sessions: o.sessions, seed: o.seed,
      onRound: (r, n) => log.update(`round ${r + 1}/${n}: ${archs.length} networks profiled`, r + 1 === n),
    });
    report(o, cfg, rows, lut !== undefined, (performance.now() - t0) / 1000);
  } finally {
    dev.destroy();
  }
}

function report(o: SpaceLatencyFlags, cfg: SpaceLutConfig, rows: LatencyRow[], withLut: boolean, seconds: number): void {
  const out = o.sample === undefined ? undefined
    : o.out ?? `runs/latency/${cfg.space}-${o.dataset}-C${cfg.C}-N${cfg.N}-s${cfg.stemStride}-b${cfg.batch}-sample${o.sample}-seed${o.seed}.csv`;
  if (out) {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, spaceLatencyCsv(rows));
  }
  const summary = withLut && rows.length >= 2 ? lutErrorReport(rows) : undefined;
  if (o.json) {
    console.log(JSON.stringify({ csv: out, seconds, config: cfg, report: summary, rows }, (_, v) => (Number.isNaN(v) ? null : v), 2));
    return;
  }
  for (const r of rows) {
    const lut = Number.isNaN(r.lut_ms) ? '' : `  LUT sum ${r.lut_ms.toFixed(3)} ms (${(100 * (r.lut_ms / r.measured_ms - 1)).toFixed(1)}%)`;
    console.log(`${r.measured_ms.toFixed(3).padStart(9)} ms GPU (fastest ${r.measured_min_ms.toFixed(3)}), wall ${r.wall_ms.toFixed(3)} ms, ${r.dispatches} dispatches${lut}  ${r.arch_str}`);
  }
  if (summary) {
    console.log(`LUT sum vs measured over ${summary.n}: MAPE ${(100 * summary.mape).toFixed(1)}%, Spearman ${summary.spearman.toFixed(3)}, Kendall ${summary.kendall.toFixed(3)}, ` +
      `within ±10% ${(100 * summary.within10).toFixed(0)}%, mean ratio LUT/measured ${summary.meanRatio.toFixed(3)}`);
  }
  console.log(`${rows.length} ${cfg.space} networks measured in ${seconds.toFixed(1)} s${out ? `; wrote ${out}` : ''}`);
}
