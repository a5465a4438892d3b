/**
 * `wgnas latency --results A/result.json,B/result.json,…`: measures again, in this process, the
 * architectures that searches found, with the search's own network (space, width, depth, stem, input,
 * latency batch and seed read from each result's config), under the one latency protocol
 * (LATENCY_PROTOCOL: interleaved rounds, a settle forward before each timed one), and sets the numbers
 * beside what the search reported: its target, the calibration's measurement and result.json's.
 *
 * This is the check of `--target`: a fresh process, other networks in the same rounds, a machine in
 * another state. The results must share one network configuration (they are measured on one input).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DATASET_NAMES, DATASETS } from '../data/dataset.js';
import { measureNetworkLatencies, type NetworkTimingOptions } from '../hardware/measure.js';
import { spaceBinding, SPACES, type DerivedArch, type NetKnobs } from '../nas/space-binding.js';
import type { Device } from '../tensor/device.js';
import { UsageError } from './args.js';

/** The part of a search's result.json that re-measuring reads. */
const SearchResult = z.object({
  space: z.enum(SPACES),
  arch_str: z.string(),
  genotype: z.unknown(),
  budget: z.object({ measured: z.number().optional(), by: z.enum(['adapter', 'model']).optional() }).nullish(),
  measured_latency_ms: z.object({ batch: z.number().int().positive(), median: z.number() }),
  config: z.object({
    dataset: z.enum(DATASET_NAMES),
    channels: z.number().int().positive(),
    cellsPerStage: z.number().int().positive(),
    stemStride: z.number().int(),
    seed: z.number().int(),
    latencyBatch: z.number().int().positive(),
    cost: z.string(),
    target: z.number().optional(),
  }),
});
type SearchResult = z.infer<typeof SearchResult>;

export interface Remeasured {
  file: string;
  arch_str: string;
  /** the search's --target when its cost is latency (ms) */
  target_ms?: number;
  /** the calibration's measurement of this architecture, in the search (or its cost model's value: calibrated_by) */
  calibrated_ms?: number;
  calibrated_by?: 'adapter' | 'model';
  /** result.json's measurement, in the search process after retraining */
  result_ms: number;
  /** this process's measurement (median GPU time, LATENCY_PROTOCOL) */
  now_ms: number;
  now_p10_ms: number;
  now_p90_ms: number;
}

function readResult(file: string): SearchResult {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--results: cannot read ${file}: ${(e as Error).message}`);
  }
  const r = SearchResult.safeParse(raw);
  if (!r.success) throw new UsageError(`--results: ${file} is not a search's result.json: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return r.data;
}

/** The network knobs a search ran with (its CLI's mapping of flags to the network). */
export function searchKnobs(o: { dataset: (typeof DATASET_NAMES)[number]; channels: number; cellsPerStage: number; stemStride: number; seed: number }): NetKnobs {
  const info = DATASETS[o.dataset];
  return { C: o.channels, N: o.cellsPerStage, inChannels: info.c, classes: info.classes.length, H: info.h, W: info.w, stemStride: o.stemStride, seed: o.seed };
}

/** Re-measures the found architecture of every result file, all interleaved in one session. */
export async function remeasureResults(dev: Device, files: readonly string[], opts: NetworkTimingOptions & { onRound?: (r: number, n: number) => void } = {}): Promise<Remeasured[]> {
  if (files.length === 0) throw new UsageError('--results: no files given');
  const results = files.map(readResult);
  const netOf = (r: SearchResult): string => JSON.stringify({ space: r.space, ...searchKnobs(r.config), seed: undefined, batch: r.config.latencyBatch });
  const nets = new Set(results.map(netOf));
  if (nets.size > 1) throw new UsageError(`--results: the searches ran different networks (${[...nets].join(' vs ')}); re-measure each configuration on its own`);
  const models = results.map((r) => spaceBinding(r.space, dev, searchKnobs(r.config)).child({ arch: r.genotype as DerivedArch['arch'], archStr: r.arch_str }));
  try {
    const k = searchKnobs(results[0].config);
    const shape = [results[0].config.latencyBatch, k.inChannels, k.H, k.W];
    const ms = await measureNetworkLatencies(dev, models, shape, opts);
    return results.map((r, i) => ({
      file: files[i],
      arch_str: r.arch_str,
      target_ms: r.config.cost === 'latency' ? r.config.target : undefined,
      calibrated_ms: r.budget?.measured,
      calibrated_by: r.budget?.by,
      result_ms: r.measured_latency_ms.median,
      now_ms: ms[i].medianMs,
      now_p10_ms: ms[i].p10Ms,
      now_p90_ms: ms[i].p90Ms,
    }));
  } finally {
    for (const m of models) m.dispose();
  }
}

/** A table of the re-measured results, with each one's distance from its target. */
export function formatRemeasured(rows: readonly Remeasured[]): string {
  const pct = (v: number, t?: number): string => (t === undefined ? '' : ` (${v >= t ? '+' : ''}${(100 * (v / t - 1)).toFixed(1)}%)`);
  const lines = rows.map((r) => [
    r.file,
    r.target_ms === undefined ? '-' : r.target_ms.toFixed(3),
    r.calibrated_ms === undefined ? '-' : r.calibrated_ms.toFixed(3) + pct(r.calibrated_ms, r.target_ms) + (r.calibrated_by === 'model' ? ' by the model' : ''),
    r.result_ms.toFixed(3) + pct(r.result_ms, r.target_ms),
    r.now_ms.toFixed(3) + pct(r.now_ms, r.target_ms),
  ]);
  const head = ['result', 'target ms', 'calibrated', 'result.json', 'now'];
  const width = head.map((h, c) => Math.max(h.length, ...lines.map((l) => l[c].length)));
  return [head, ...lines].map((l) => l.map((v, c) => v.padEnd(width[c])).join('  ').trimEnd()).join('\n');
}
