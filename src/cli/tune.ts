/**
 * `wgnas tune`: tunes conv2d / GEMM kernel variants on the attached adapter and writes its tuning cache,
 * which every later openDevice on this adapter loads (unless WGNAS_AUTOTUNE=0).
 *   wgnas tune [--adapter A] [--suite reference|search] [--ops REGEX] [--repeats N] [--warmup N] [--json] [--dry-run]
 *              [--space nb201|darts|mbconv] [--channels C] [--cells-per-stage N] [--batch B] [--dataset D] [--stem-stride S]
 * Which calls: the ones the code really makes, recorded while it runs with the shape-class defaults —
 *  - reference: each conv2d / matmul entry of the kernels-bench reference suite, run once (a 1×1 conv
 *    also records the GEMM its gemm path runs);
 *  - search: one training step (forward + backward) of the search's supernet at the same flags as
 *    `node search.js` under the mixture sampler, which runs every candidate op of every edge, so every
 *    conv / GEMM shape the search trains with is recorded (evaluation at another batch size, or batch-1
 *    latency measurement, makes other keys: tune those with --batch).
 * Each call is then tuned by src/ops/autotune.ts (checked against naive, timed, fastest kept).
 */
import { z } from 'zod';
import { DATASETS } from '../data/dataset.js';
import { adapterIdentity, loadTuningCache, saveTuningCache, tuningCachePath } from '../gpu/tuning-cache.js';
import { tuneCalls, type TuneResult } from '../ops/autotune.js';
import { crossEntropy } from '../ops/loss.js';
import { getOp } from '../ops/registry.js';
import { softmax } from '../ops/softmax.js';
import { recordTuneCalls, tuneKey, type TuneCall } from '../ops/tuning.js';
import { makeSampler } from '../nas/samplers.js';
import { spaceBinding } from '../nas/space-binding.js';
import type { Device } from '../tensor/device.js';
import { openDevice } from '../tensor/device.js';
import { seededValues } from '../tensor/host-random.js';
import { REFERENCE_SUITE } from '../../kernels-bench/suite.js';
import { flag, parseArgs } from './args.js';
import { netFlags } from './lut.js';

const USAGE = `usage: wgnas tune [--adapter auto|discrete|integrated|cpu|NAME] [--suite reference|search] [--ops REGEX] [--repeats N] [--warmup N]
  [--json] [--dry-run] [--space nb201|darts|mbconv] [--channels C] [--cells-per-stage N] [--batch B] [--dataset D] [--stem-stride 1|2]`;

const Flags = z.object({
  ...netFlags,
  suite: z.enum(['reference', 'search']).default('search'),
  ops: z.string().default('.*'),
  batch: flag.int(1).default(64),
  warmup: flag.int(0).default(1),
  repeats: flag.int(1).default(7),
  dryRun: flag.bool().default(false),
}).strict();
type TuneFlags = z.infer<typeof Flags>;

interface Labelled {
  call: TuneCall;
  /** where the call comes from (suite ids) */
  label: string;
}

/** The conv2d / matmul calls of the kernels-bench reference suite, recorded from its own runners. */
async function referenceCalls(dev: Device): Promise<Labelled[]> {
  const found = new Map<string, Labelled>();
  for (const entry of REFERENCE_SUITE.filter((e) => e.op === 'conv2d' || e.op === 'matmul')) {
    const inst = getOp(entry.op).setup(dev, entry.params, 1234);
    const calls = await recordTuneCalls(() => dev.tidy(() => { inst.run[entry.pass](); }));
    for (const t of Object.values(inst.inputs)) t.dispose();
    for (const call of calls) {
      const key = tuneKey(call);
      const label = entry.op === 'conv2d' && call.op === 'gemm' ? `${entry.id} (gemm path)` : entry.id;
      const hit = found.get(key);
      if (hit) hit.label += `, ${label}`;
      else found.set(key, { call, label });
    }
  }
  await dev.sync();
  return [...found.values()];
}

/** Every conv2d / GEMM call of one supernet training step (mixture sampler: every candidate runs). */
async function searchCalls(dev: Device, o: TuneFlags): Promise<Labelled[]> {
  const d = DATASETS[o.dataset];
  const space = spaceBinding(o.space, dev, { C: o.channels, N: o.cellsPerStage, inChannels: d.c, classes: d.classes.length, H: d.h, W: d.w, stemStride: o.stemStride, seed: 1 });
  const [E, K] = [space.rows, space.cols];
  const net = space.supernet();
  const alpha = dev.parameter(new Float32Array(E * K), [E, K], 'alpha');
  const x = dev.tensor(seededValues(o.batch * d.c * d.h * d.w, 5), [o.batch, d.c, d.h, d.w], { persistent: true });
  const y = dev.tensor(Float32Array.from({ length: o.batch }, (_, i) => i % d.classes.length), [o.batch], { persistent: true });
  const sampler = makeSampler('mixture', { seed: 1 });
  const calls = await recordTuneCalls(() => dev.tidy(async () => {
    const ctx = { alpha, step: 0, E, K, noneIndex: space.noneIndex, allowed: space.allowed, probs: softmax(alpha), probsHost: undefined };
    const plans = Array.from({ length: E }, (_, e) => sampler.plan(ctx, e));
    await crossEntropy(net.forwardPlanned(x, plans), y).backward();
  }));
  await dev.sync();
  for (const t of [alpha, x, y]) t.dispose();
  net.dispose();
  const label = `${o.space} C${o.channels} N${o.cellsPerStage} batch ${o.batch}`;
  return calls.map((call) => ({ call, label }));
}

function variantsCell(r: TuneResult): string {
  return r.results.map((v) => {
    if (v.sameAs) return `${v.variant}=${v.sameAs}${v.variant === r.winner ? '*' : ''}`;
    if (v.rejected) return `${v.variant} REJECTED`;
    return `${v.variant} ${v.ms!.toFixed(3)}${v.variant === r.winner ? '*' : ''}`;
  }).join(', ');
}

export function formatTuneTable(results: readonly TuneResult[], labels: ReadonlyMap<string, string>): string {
  const head = ['key', 'from', 'variants (median GPU ms; * winner)', 'default', 'winner', 'speed-up', 'rejected by the check'];
  const body = results.map((r) => [r.key, labels.get(r.key) ?? '', variantsCell(r), r.default, r.winner, Number.isFinite(r.speedup) ? `${r.speedup.toFixed(2)}x` : '-',
    r.results.filter((v) => v.rejected).map((v) => `${v.variant}: ${v.rejected}`).join('; ') || '-']);
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd();
  const changed = results.filter((r) => r.winner !== r.default);
  const sum = (f: (r: TuneResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const total = `sum over the keys (one call each): default ${sum((r) => r.defaultMs).toFixed(2)} ms, tuned ${sum((r) => r.winnerMs).toFixed(2)} ms`;
  return [line(head), ...body.map(line), '',
    `${results.length} keys; ${changed.length} changed winner${changed.length ? `: ${changed.map((r) => `${r.key} ${r.default}→${r.winner} ${r.speedup.toFixed(2)}x`).join('; ')}` : ''}`,
    total,
    `${results.reduce((a, r) => a + r.results.filter((v) => v.rejected).length, 0)} variant(s) rejected by the check`].join('\n');
}

export async function tuneCommand(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, Flags, USAGE);
  // the calls are recorded with the shape-class defaults (no cache), then tuned with the cache so far
  const dev = await openDevice({ adapter: o.adapter, autotune: false });
  const id = adapterIdentity(dev.adapter);
  const path = tuningCachePath(id);
  const say = (s: string) => (o.json ? process.stderr : process.stdout).write(`${s}\n`);
  say(`adapter: ${dev.adapter.name} [${dev.adapter.kind}]; timing: ${dev.hasTimestamps ? 'timestamp queries' : 'wall clock (no timestamp-query)'}; cache: ${path}`);
  const filter = new RegExp(o.ops);
  const found = (o.suite === 'reference' ? await referenceCalls(dev) : await searchCalls(dev, o)).filter((l) => filter.test(tuneKey(l.call)));
  const labels = new Map(found.map((l) => [tuneKey(l.call), l.label]));
  say(`${found.length} ${o.suite} calls to tune (${o.repeats} timed rounds after ${o.warmup} warm-up)`);
  dev.tuning = loadTuningCache(id, path);
  const results = await tuneCalls(dev, found.map((l) => l.call), {
    repeats: o.repeats, warmup: o.warmup,
    onResult: (r, i, n) => process.stderr.write(`  [${i + 1}/${n}] ${r.key}: ${r.winner}${r.winner !== r.default ? ` (default ${r.default}, ${r.speedup.toFixed(2)}x)` : ''}\n`),
  });
  const written = o.dryRun ? undefined : saveTuningCache(dev.tuning!, path);
  if (o.json) {
    console.log(JSON.stringify({ adapter: dev.adapter, suite: o.suite, cache: written ?? null, source: dev.profiler.source, results: results.map((r) => ({ ...r, from: labels.get(r.key) })) }, null, 2));
  } else {
    console.log(formatTuneTable(results, labels));
    console.log(written ? `wrote ${written} (${dev.tuning!.size} entries)` : 'dry run: cache not written');
  }
  dev.destroy();
}
