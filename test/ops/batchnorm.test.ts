import { describe, expect, it } from 'vitest';
import { batchNorm2d, batchNormBackward, batchNormForwardTrain, type BatchNormOptions } from '../../src/ops/batchnorm.js';
import { mul, sum } from '../../src/ops/elementwise.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';
import { batchNormBackwardRef, batchNormRef, type BnRefOptions } from '../reference/batchnorm.js';

// Tolerances: forward and running stats atol 1e-5 / rtol 1e-4 (f32 sums over up to 7·10³ elements);
// gradients atol 2e-5 / rtol 2e-4 for dinp (a difference of per-channel means), 1e-4 / 1e-4 for the
// per-channel sums dweight, dbias. Finite differences: helper defaults (eps 1e-2, atol 2e-2, rtol 5e-2).
interface Case { shape: number[]; offset: number; fd?: boolean }
const CASES: Case[] = [
  { shape: [1, 1, 5, 5], offset: 0, fd: true },
  { shape: [3, 3, 7, 7], offset: 0, fd: true },
  { shape: [3, 5, 9, 9], offset: 3 },
  { shape: [2, 3, 1, 1], offset: 0, fd: true }, // count 2: the smallest batch training accepts
  { shape: [1, 3, 5, 9], offset: -2 },
  { shape: [3, 2, 47, 49], offset: 20 }, // count 6909, H·W > lanes; a large mean
];

const numel = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);

describe('batch_norm2d', () => {
  for (const training of [true, false]) {
    for (const affine of [false, true]) {
      it(`${training ? 'training' : 'inference'}, affine=${affine}: forward, running stats and backward match references; finite differences`, async () => {
        const dev = await testDevice();
        for (const [ci, c] of CASES.entries()) {
          const C = c.shape[1];
          const what = `[${c.shape}] ${training ? 'train' : 'eval'} affine=${affine}`;
          const xs = randArray(numel(c.shape), 10 + ci, c.offset - 2, c.offset + 2);
          const ds = randArray(numel(c.shape), 30 + ci);
          const ws = randArray(C, 50 + ci, 0.5, 1.5);
          const bs = randArray(C, 60 + ci);
          const rm = randArray(C, 70 + ci, c.offset - 0.5, c.offset + 0.5);
          const rv = randArray(C, 80 + ci, 0.5, 2);
          const x = dev.tensor(xs, c.shape, { requiresGrad: true });
          const weight = affine ? dev.parameter(ws, [C]) : undefined;
          const bias = affine ? dev.parameter(bs, [C]) : undefined;
          const runningMean = dev.tensor(rm, [C], { persistent: true });
          const runningVar = dev.tensor(rv, [C], { persistent: true });
          const opts: BatchNormOptions = { weight, bias, runningMean, runningVar, training, momentum: 0.3, eps: 1e-3 };
          const ropts: BnRefOptions = { weight: affine ? ws : undefined, bias: affine ? bs : undefined, runningMean: rm, runningVar: rv, training, momentum: 0.3, eps: 1e-3 };
          const want = batchNormRef(xs, c.shape, ropts);
          const y = batchNorm2d(x, opts).retain();
          expectClose(await y.read(), want.out, 1e-5, 1e-4, `fwd ${what}`);
          expectClose(await runningMean.read(), want.runningMean!, 1e-5, 1e-4, `running mean ${what}`);
          expectClose(await runningVar.read(), want.runningVar!, 1e-5, 1e-4, `running var ${what}`);

          await y.backward(dev.tensor(ds, c.shape));
          const g = batchNormBackwardRef(xs, ds, c.shape, ropts);
          const dx = await x.grad!.read();
          expectClose(dx, g.dinp, 2e-5, 2e-4, `dinp ${what}`);
          if (affine) {
            expectClose(await weight!.grad!.read(), g.dweight, 1e-4, 1e-4, `dweight ${what}`);
            expectClose(await bias!.grad!.read(), g.dbias, 1e-4, 1e-4, `dbias ${what}`);
          }
          if (c.fd) {
            // FD losses run without running stats in training (they would drift), with the same ones in inference
            const d = dev.tensor(ds, c.shape, { persistent: true });
            const fdOpts = (o: Partial<BatchNormOptions>): BatchNormOptions => ({ ...opts, ...(training ? { runningMean: undefined, runningVar: undefined } : {}), ...o });
            await checkFiniteDiff(dev, xs, c.shape, (t) => sum(mul(batchNorm2d(t, fdOpts({})), d)), dx, { count: 8 });
            if (affine) {
              const xc = dev.tensor(xs, c.shape, { persistent: true });
              await checkFiniteDiff(dev, ws, [C], (t) => sum(mul(batchNorm2d(xc, fdOpts({ weight: t })), d)), await weight!.grad!.read(), { count: C });
              await checkFiniteDiff(dev, bs, [C], (t) => sum(mul(batchNorm2d(xc, fdOpts({ bias: t })), d)), await bias!.grad!.read(), { count: C });
              xc.dispose();
            }
            d.dispose();
          }
          for (const t of [x, y, weight, bias, runningMean, runningVar]) t?.dispose();
        }
      });
    }
  }

  it('every workgroup size (32, 64, 256 lanes) gives the same statistics, running update and gradients', async () => {
    const dev = await testDevice();
    for (const [si, shape] of [[3, 2, 47, 49], [5, 3, 3, 3], [300, 2, 1, 1]].entries()) {
      const C = shape[1];
      const xs = randArray(numel(shape), 600 + si, 1, 3);
      const ds = randArray(numel(shape), 610 + si);
      const ws = randArray(C, 620 + si, 0.5, 1.5);
      const bs = randArray(C, 630 + si);
      const ropts: BnRefOptions = { weight: ws, bias: bs, runningMean: new Float32Array(C), runningVar: new Float32Array(C).fill(1), training: true };
      const want = batchNormRef(xs, shape, ropts);
      const g = batchNormBackwardRef(xs, ds, shape, ropts);
      for (const lanes of [32, 64, 256]) {
        const what = `[${shape}] lanes ${lanes}`;
        await dev.tidy(async () => {
          const x = dev.tensor(xs, shape);
          const weight = dev.tensor(ws, [C]);
          const runningMean = dev.zeros([C]);
          const runningVar = dev.full([C], 1);
          const f = batchNormForwardTrain(x, { weight, bias: dev.tensor(bs, [C]), runningMean, runningVar, training: true }, lanes);
          expectClose(await f.out.read(), want.out, 1e-5, 1e-4, `fwd ${what}`);
          expectClose(await f.mean.read(), want.mean, 1e-5, 1e-4, `mean ${what}`);
          expectClose(await f.variance.read(), want.variance, 1e-5, 1e-4, `var ${what}`);
          expectClose(await runningVar.read(), want.runningVar!, 1e-5, 1e-4, `running var ${what}`);
          const b = batchNormBackward(x, dev.tensor(ds, shape), f.mean, f.variance, weight, 1e-5, true, lanes);
          expectClose(await b.dinp.read(), g.dinp, 2e-5, 2e-4, `dinp ${what}`);
          expectClose(await b.dweight.read(), g.dweight, 1e-4, 1e-4, `dweight ${what}`);
          expectClose(await b.dbias.read(), g.dbias, 1e-4, 1e-4, `dbias ${what}`);
        });
      }
    }
  });

  it('gradient only for weight/bias (input needs none); no running stats in training; live memory returns', async () => {
    const dev = await testDevice();
    const shape = [3, 4, 5, 7];
    const xs = randArray(numel(shape), 1);
    const ds = randArray(numel(shape), 2);
    const ws = randArray(4, 3, 0.5, 1.5);
    const bs = randArray(4, 4);
    await dev.sync();
    const before = dev.memory.liveBytes;
    const weight = dev.parameter(ws, [4]);
    const bias = dev.parameter(bs, [4]);
    const x = dev.tensor(xs, shape);
    const y = batchNorm2d(x, { weight, bias, training: true });
    const ropts: BnRefOptions = { weight: ws, bias: bs, training: true };
    expectClose(await y.read(), batchNormRef(xs, shape, ropts).out, 1e-5, 1e-4, 'fwd');
    await y.backward(dev.tensor(ds, shape));
    const g = batchNormBackwardRef(xs, ds, shape, ropts);
    expectClose(await weight.grad!.read(), g.dweight, 1e-4, 1e-4, 'dweight');
    expectClose(await bias.grad!.read(), g.dbias, 1e-4, 1e-4, 'dbias');
    expect(x.grad).toBeNull();
    y.dispose();
    x.dispose();
    await dev.sync();
    // left: weight, bias and their grads (4 × 16 B)
    expect(dev.memory.liveBytes - before).toBe(64);
    for (const t of [weight, bias]) t.dispose();
  });

  it('rejects bad shapes and options, naming the op and the shape', async () => {
    const dev = await testDevice();
    const x = dev.zeros([2, 3, 4, 4]);
    const w = dev.zeros([4]);
    const one = (o: BatchNormOptions, t: Tensor = x) => () => batchNorm2d(t, o);
    expect(one({ weight: w, bias: w, training: true })).toThrow(/batch_norm2d.*\[2,3,4,4\].*weight.*\[4\]/);
    expect(one({ weight: dev.zeros([3]), training: true })).toThrow(/weight and bias together/);
    expect(one({ training: false })).toThrow(/inference needs runningMean/);
    expect(one({ training: true }, dev.zeros([1, 3, 1, 1]))).toThrow(/more than one value per channel/);
    expect(one({ training: true }, dev.zeros([2, 3]))).toThrow(/NCHW/);
  });
});
