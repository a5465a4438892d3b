/**
 * kernels-bench: GPU latency of every registered op pass on any WebGPU adapter.
 *   node kernels-bench/run.js [--adapter A] [--ops REGEX] [--suite reference|sweep] [--json out.json]
 *                             [--repeats N] [--warmup N]
 * Each record: op, pass, parameters, GPU time from timestamp queries (median/p10/p90 over the repeats
 * after warm-up; a pass that issues several dispatches is timed as their sum), GFLOP/s and GB/s from the
 * op's own counts, share of the adapter's measured ceilings, and the adapter's identity. Every case is
 * checked against its float64 reference before it is timed; a case that fails is reported, not timed.
 */
import { writeFileSync } from 'node:fs';
import { z } from 'zod';
import { flag, parseArgs } from '../src/cli/args.js';
import { grid } from '../src/gpu/gpu-device.js';
import { quantile } from '../src/gpu/profiler.js';
import { openDevice, type Device } from '../src/tensor/device.js';
import { timePass } from '../src/tensor/timing.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { registry, type OpParams, type OpRecord } from '../src/ops/index.js';
import '../src/hardware/gnn-ops.js';
import { REFERENCE_SUITE, type SuiteEntry } from './suite.js';
import { verify } from './verify.js';

const USAGE = 'usage: node kernels-bench/run.js [--adapter auto|discrete|integrated|cpu|NAME] [--ops REGEX] [--suite reference|sweep] [--json FILE] [--repeats N] [--warmup N]';

const Flags = z.object({
  adapter: flag.adapter(),
  ops: z.string().default('.*'),
  suite: z.enum(['reference', 'sweep']).default('reference'),
  json: z.string().optional(),
  repeats: flag.int(3).default(10),
  warmup: flag.int(0).default(2),
}).strict();

export interface BenchRecord {
  id: string;
  op: string;
  pass: string;
  params: OpParams;
  describe: string;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  repeats: number;
  gflops: number;
  gbps: number;
  fmaShare: number;
  bwShare: number;
  check: string;
  source: string;
}

export interface Ceilings {
  fmaGflops: number;
  copyGbps: number;
}

/** Times fn (which encodes one pass) `repeats` times after `warmup`, each sample = sum of its dispatches. */
export { timePass };

export async function measureCeilings(dev: Device): Promise<Ceilings> {
  const n = 1 << 16;
  const iters = 512;
  const inp = dev.zeros([n * 4]);
  const out = dev.zeros([n * 4]);
  const fma = await timePass(dev, () => dev.dispatch({ shader: 'ceiling.wgsl', entry: 'fma_chain', bind: { out: out.binding }, params: { n, iters, seed: 1 }, workgroups: grid(n, 256), shape: 'ceiling' }), 5, 1);
  const big = 1 << 22; // vec4s: 64 MiB each way
  const src = dev.zeros([big * 4]);
  const dst = dev.zeros([big * 4]);
  const copy = await timePass(dev, () => dev.dispatch({ shader: 'ceiling.wgsl', entry: 'copy4', bind: { inp: src.binding, out: dst.binding }, params: { n: big, iters: 0, seed: 0 }, workgroups: grid(big, 256), shape: 'ceiling' }), 5, 1);
  for (const t of [inp, out, src, dst]) t.dispose();
  return {
    fmaGflops: (n * iters * 64) / (quantile(fma, 0.5) * 1e6),
    copyGbps: (big * 32) / (quantile(copy, 0.5) * 1e6),
  };
}

export async function benchCase(dev: Device, rec: OpRecord, entry: SuiteEntry, ceilings: Ceilings, repeats: number, warmup: number): Promise<BenchRecord> {
  const inst = rec.setup(dev, entry.params, 1234);
  const runner = inst.run[entry.pass];
  if (!runner) throw new Error(`op ${rec.name} has no pass "${entry.pass}" (has ${Object.keys(inst.run).join(', ')})`);
  let check: string;
  try {
    check = await verify(dev, rec, entry.params, entry.pass, inst);
  } catch (e) {
    check = `FAILED: ${(e as Error).message}`;
  }
  let samples: number[] = [];
  if (!check.startsWith('FAILED')) samples = await timePass(dev, () => { runner(); }, repeats, warmup);
  for (const t of Object.values(inst.inputs)) t.dispose();
  const med = quantile(samples, 0.5);
  const flops = rec.flops(entry.params, entry.pass);
  const bytes = rec.bytes(entry.params, entry.pass);
  return {
    id: entry.id,
    op: rec.name,
    pass: entry.pass,
    params: entry.params,
    describe: rec.describe(entry.params),
    medianMs: med,
    p10Ms: quantile(samples, 0.1),
    p90Ms: quantile(samples, 0.9),
    repeats: samples.length,
    gflops: flops / (med * 1e6),
    gbps: bytes / (med * 1e6),
    fmaShare: flops / (med * 1e6) / ceilings.fmaGflops,
    bwShare: bytes / (med * 1e6) / ceilings.copyGbps,
    check,
    source: dev.profiler.source,
  };
}

function cases(suite: 'reference' | 'sweep', ops: RegExp): { rec: OpRecord; entry: SuiteEntry }[] {
  const recs = registry();
  const byName = new Map(recs.map((r) => [r.name, r]));
  if (suite === 'reference') {
    return REFERENCE_SUITE.filter((e) => ops.test(e.op) || ops.test(e.id)).map((entry) => {
      const rec = byName.get(entry.op);
      if (!rec) throw new Error(`reference suite entry ${entry.id}: op ${entry.op} is not registered`);
      return { rec, entry };
    });
  }
  return recs.filter((r) => ops.test(r.name)).flatMap((rec) =>
    rec.sweep.flatMap((params, i) => rec.passes.map((pass) => ({ rec, entry: { id: `${rec.name}_${i}`, op: rec.name, pass, params } }))));
}

export function formatTable(rows: BenchRecord[], ceilings: Ceilings): string {
  const head = ['id', 'op', 'pass', 'shape', 'median ms', 'p10', 'p90', 'GFLOP/s', 'GB/s', '%FMA', '%BW', 'TF.js ms', 'speed-up', 'check'];
  const body = rows.map((r) => {
    const tf = REFERENCE_SUITE.find((e) => e.id === r.id)?.tfjsMs;
    return [r.id, r.op, r.pass, r.describe, r.medianMs.toFixed(3), r.p10Ms.toFixed(3), r.p90Ms.toFixed(3), r.gflops.toFixed(2), r.gbps.toFixed(2),
      (100 * r.fmaShare).toFixed(1), (100 * r.bwShare).toFixed(1), tf ? String(tf) : '-', tf ? `${(tf / r.medianMs).toFixed(2)}x` : '-', r.check];
  });
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(w[i])).join('  ');
  return [`ceilings: FMA ${ceilings.fmaGflops.toFixed(1)} GFLOP/s, copy ${ceilings.copyGbps.toFixed(1)} GB/s`, line(head), ...body.map(line)].join('\n');
}

export async function benchMain(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv, Flags, USAGE);
  const dev = await openDevice({ adapter: opts.adapter });
  console.log(`adapter: ${dev.adapter.name} [${dev.adapter.kind}] ${dev.adapter.vendor}/${dev.adapter.architecture}; timing: ${dev.hasTimestamps ? 'timestamp queries' : 'wall clock (no timestamp-query)'}`);
  if (dev.tuning) console.log(`variants: from the tuning cache ${dev.tuning.path} (${dev.tuning.size} entries) where it has the shape, else by shape class (WGNAS_AUTOTUNE=0: shape class only)`);
  const ceilings = await measureCeilings(dev);
  const rows: BenchRecord[] = [];
  for (const { rec, entry } of cases(opts.suite, new RegExp(opts.ops))) {
    const r = await benchCase(dev, rec, entry, ceilings, opts.repeats, opts.warmup);
    rows.push(r);
    process.stderr.write(`  ${r.id} ${r.pass}: ${r.medianMs.toFixed(3)} ms (${r.check})\n`);
  }
  console.log(formatTable(rows, ceilings));
  const speedups = rows.map((r) => ({ r, tf: REFERENCE_SUITE.find((e) => e.id === r.id)?.tfjsMs })).filter((x) => x.tf && x.r.medianMs > 0).map((x) => x.tf! / x.r.medianMs);
  if (speedups.length) console.log(`geometric-mean speed-up vs TF.js (lavapipe reference numbers): ${Math.exp(speedups.reduce((a, s) => a + Math.log(s), 0) / speedups.length).toFixed(2)}x over ${speedups.length} entries`);
  if (opts.json) {
    writeFileSync(opts.json, JSON.stringify({ adapter: dev.adapter, ceilings, suite: opts.suite, records: rows }, null, 2));
    console.log(`wrote ${opts.json}`);
  }
  dev.destroy();
}
