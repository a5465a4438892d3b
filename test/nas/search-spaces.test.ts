/**
 * `node search.js --space darts|mbconv` end to end on a few Fashion-MNIST images: search, derive,
 * retrain skipped, evaluate, result.json with the space's genotype; and a budget (--target on params)
 * that the derivation meets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateGenotype } from '../../src/nas/spaces/darts.js';
import { parseMbconv } from '../../src/nas/spaces/mbconv.js';
import { mbconvSpaceFor } from '../../src/nas/space-binding.js';

const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };
const BASE = ['search.js', '--epochs', '2', '--warmup-epochs', '1', '--train-subset', '96', '--batch-size', '32', '--channels', '4', '--retrain-epochs', '0', '--seed', '2'];

function run(args: string[]): Record<string, unknown> {
  const out = mkdtempSync(join(tmpdir(), 'wgnas-space-'));
  const r = spawnSync('node', [...BASE, ...args, '--out', out], { env, encoding: 'utf8' });
  expect(r.status, r.stderr + r.stdout).toBe(0);
  return JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
}

describe('search on the DARTS and MBConv spaces', () => {
  it('darts: a normal and a reduction cell in the DARTS genotype format', () => {
    const res = run(['--space', 'darts', '--sampler', 'gumbel']);
    const g = validateGenotype(res.genotype);
    expect(g.normal.length).toBe(8);
    expect(g.reduce.length).toBe(8);
    expect(g.normal.every(([op]) => op !== 'none')).toBe(true);
    expect(res.arch_str).toMatch(/^Genotype\(normal=\[/);
    expect(res.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(res.params).toBeGreaterThan(0);
  }, 240_000);

  it('mbconv: a budget on parameters is met by the derived layers', () => {
    const knobs = { C: 4, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 2 };
    const space = mbconvSpaceFor(knobs);
    const res = run(['--space', 'mbconv', '--cost', 'params', '--cost-weight', '1', '--target', '0.004', '--target-tolerance', '0.1']) as {
      arch_str: string; params: number; budget: { inBudget: boolean; cost: number; lo: number; hi: number };
    };
    const arch = parseMbconv(res.arch_str, space);
    expect(arch.length).toBe(6);
    // the band is 4000 ± 10% parameters, the child network's own count lies in it
    expect(res.budget.lo).toBeCloseTo(3600, 6);
    expect(res.budget.inBudget).toBe(true);
    expect(res.params).toBe(res.budget.cost);
    expect(res.params).toBeGreaterThanOrEqual(3600);
    expect(res.params).toBeLessThanOrEqual(4400);
  }, 240_000);

  it('bi-level --second-order runs DARTS second order (α history differs from first order); bad combinations are refused', () => {
    const common = ['--optim', 'bi-level', '--sampler', 'mixture', '--epochs', '2'];
    const first = run(common) as { alpha_history: number[][][] };
    const second = run([...common, '--second-order']) as { alpha_history: number[][][] };
    const [a, b] = [first.alpha_history.at(-1)!.flat(), second.alpha_history.at(-1)!.flat()];
    expect(b.every(Number.isFinite)).toBe(true);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i])))).toBeGreaterThan(1e-6);
    const r = spawnSync('node', [...BASE, '--second-order', '--out', mkdtempSync(join(tmpdir(), 'wgnas-space-'))], { env, encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/--second-order: DARTS second order needs --optim bi-level/);
  }, 240_000);

  it('latency on the attached adapter: darts with κ·LUT latency; mbconv with a latency target calibrated by measurement', () => {
    const d = run(['--space', 'darts', '--epochs', '1', '--warmup-epochs', '0', '--cost-weight', '1']) as { predicted_cost: Record<string, number>; cost_terms: { name: string }[] };
    expect(d.cost_terms.map((t) => t.name)).toContain('latency_ms');
    expect(d.predicted_cost.latency_ms).toBeGreaterThan(0);
    expect(d.predicted_cost.latency_ms).toBeCloseTo(d.predicted_cost.latency_ms_lut_network, 6); // table + offset = the LUT sum of the child
    const m = run(['--space', 'mbconv', '--cost-weight', '1', '--target', '2']) as { budget: { rounds: { measured: number }[]; measured: number }; measured_latency_ms: { median: number } };
    // timings are not asserted (shared machines): the loop measured, and reports what it measured
    expect(m.budget.rounds.length).toBeGreaterThanOrEqual(1);
    expect(m.budget.rounds.every((r) => r.measured > 0)).toBe(true);
    expect(m.budget.rounds.map((r) => r.measured)).toContain(m.budget.measured);
  }, 240_000);
});
