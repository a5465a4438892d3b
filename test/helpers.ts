/**
 * Test helpers: a poisoned test device, a seeded RNG, float64 comparison, and a finite-difference
 * gradient checker. CPU references live with the tests, in float64; they never run in the library.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { openDevice, type Device } from '../src/index.js';
import type { Tensor } from '../src/tensor/tensor.js';
import { predictLatencyRelaxed, type GnnPredictor } from '../src/hardware/predictor.js';
import type { Module } from '../src/nn/module.js';
import { seededRandom } from '../src/tensor/host-random.js';

let shared: Promise<Device> | undefined;
/** One device per test file, with NaN-poisoned op outputs so unwritten elements fail comparisons. */
export function testDevice(): Promise<Device> {
  shared ??= openDevice({ adapter: process.env.WGNAS_TEST_ADAPTER ?? 'auto', poison: true, autotune: false });
  return shared;
}

/** mulberry32: a small seeded PRNG, so failures reproduce (the library's host-side generator). */
export const rng = seededRandom;

/** rows × cols softmax probabilities of seeded random logits in [0, spread): an α's softmax in tests */
export function randomProbs(seed: number, rows: number, cols: number, spread = 3): number[][] {
  const r = rng(seed);
  return Array.from({ length: rows }, () => {
    const z = Array.from({ length: cols }, () => Math.exp(spread * r()));
    const s = z.reduce((a, b) => a + b, 0);
    return z.map((v) => v / s);
  });
}

/** n uniform values in [lo, hi), as float32. */
export function randArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

/** Asserts |got - want| <= atol + rtol·|want| element-wise; reports the worst element. NaN fails. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = ''): void {
  expect(got.length, `${what} length`).toBe(want.length);
  let worst = -1;
  let worstErr = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const bad = !(err <= atol + rtol * Math.abs(want[i])); // NaN-safe: NaN compares false
    if (bad && (worst < 0 || !(err <= worstErr))) {
      worst = i;
      worstErr = err;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what} element ${worst}: got ${got[worst]}, want ${want[worst]} (|err| ${worstErr}, atol ${atol}, rtol ${rtol})`);
  }
}

/**
 * Central finite differences of a scalar function of one input, evaluated on the GPU in float32.
 * Checks `analytic` (the gradient from backward) on `count` random coordinates.
 */
export async function checkFiniteDiff(
  dev: Device,
  input: Float32Array,
  shape: readonly number[],
  loss: (x: Tensor) => Tensor,
  analytic: ArrayLike<number>,
  { eps = 1e-2, atol = 2e-2, rtol = 5e-2, count = 12, seed = 7 } = {},
): Promise<void> {
  const r = rng(seed);
  const idx = new Set<number>();
  while (idx.size < Math.min(count, input.length)) idx.add(Math.floor(r() * input.length));
  for (const i of idx) {
    const f = async (delta: number): Promise<number> => {
      const x = input.slice();
      x[i] += delta;
      return dev.tidy(async () => {
        const v = dev.noGrad(() => loss(dev.tensor(x, shape)));
        return (await v.read())[0];
      });
    };
    const fd = ((await f(eps)) - (await f(-eps))) / (2 * eps);
    const err = Math.abs(fd - analytic[i]);
    expect(err, `d/dx[${i}]: finite difference ${fd}, backward ${analytic[i]}`).toBeLessThanOrEqual(atol + rtol * Math.abs(fd));
  }
}

/**
 * Path of a public benchmark table from ../shared/datasets (beside the repository, as on the project's
 * machines and CI), or $WGNAS_SHARED_DATASETS; undefined when absent (the tests that need it are skipped,
 * saying so).
 */
/** Float64 central differences (step h) of a CPU reference f at x: the reference gradient of a backward. */
export function centralDiffRef(f: (x: Float64Array) => number, x: ArrayLike<number>, h = 1e-5): number[] {
  return Array.from(x, (_, i) => {
    const p = Float64Array.from(x);
    const m = Float64Array.from(x);
    p[i] += h;
    m[i] -= h;
    return (f(p) - f(m)) / (2 * h);
  });
}

export function sharedDataset(file: string): string | undefined {
  const dirs = [process.env.WGNAS_SHARED_DATASETS, resolve(process.cwd(), '../shared/datasets'), resolve(process.cwd(), 'datasets')];
  return dirs.filter((d): d is string => Boolean(d)).map((d) => join(d, file)).find((p) => existsSync(p));
}

/** Dispatches of one plain eval forward of `net` on zeros of `shape` (poisoning off); disposes the net. */
export function evalForwardDispatches(dev: Device, net: Module, shape: number[]): number {
  net.eval();
  const poison = dev.poison;
  dev.poison = false;
  const x = dev.zeros(shape);
  const before = dev.dispatchCount;
  dev.tidy(() => dev.noGrad(() => void net.forward(x)));
  const n = dev.dispatchCount - before;
  dev.poison = poison;
  x.dispose();
  net.dispose();
  return n;
}

/**
 * Runs `node ARGS` in the project root and resolves with its exit status and output. Asynchronous on
 * purpose: a spawnSync of a search blocks the test worker's event loop for tens of seconds, and vitest's
 * worker RPC then times out ("Timeout calling onTaskUpdate"), failing the run.
 */
export function runNode(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('node', args, { env: { ...env, XDG_RUNTIME_DIR: env.XDG_RUNTIME_DIR ?? '/tmp' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/**
 * ∂latency/∂α of a predictor's relaxed prediction at α [rows, cols], checked against float64 central
 * differences of `ref` (the float64 reference predictor) and against GPU finite differences; returns the
 * GPU gradient for further checks.
 */
export async function expectRelaxedGradient(dev: Device, pred: GnnPredictor, alpha: Float32Array, rows: number, cols: number, ref: (alpha: Float64Array) => number): Promise<Float32Array> {
  const a = dev.tensor(alpha, [rows, cols], { requiresGrad: true });
  await predictLatencyRelaxed(pred, a).backward();
  const grad = await a.grad!.read();
  a.dispose();
  const want = centralDiffRef(ref, alpha);
  expect(Math.max(...want.map(Math.abs))).toBeGreaterThan(0.05);
  // f32 backward through ~20 ops vs an O(h²)-exact f64 derivative: 1e-4 absolute + 1e-3 relative
  expectClose(grad, want, 1e-4, 1e-3, 'dlatency/dα vs reference');
  // GPU central differences in float32 (noGrad), eps 1e-2: f32 noise ~1e-3 on outputs ~50, truncation O(eps²)
  await checkFiniteDiff(dev, alpha, [rows, cols], (x) => predictLatencyRelaxed(pred, x), grad, { eps: 1e-2, atol: 3e-3, rtol: 2e-2, count: 10 });
  return grad;
}
