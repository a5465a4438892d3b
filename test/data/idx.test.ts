import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../src/data/dataset.js';
import { DatasetError } from '../../src/data/files.js';
import { encodeIdx, parseIdx } from '../../src/data/idx.js';
import { rng } from '../helpers.js';

/** Test-side IDX writer, independent of src/data/idx.ts: magic 00 00 08 nd, big-endian dims, bytes. */
function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(data)]);
}

function randomBytes(n: number, seed: number, max = 256): Uint8Array {
  const r = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * max));
}

const tmp = mkdtempSync(join(tmpdir(), 'wgnas-idx-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function writeMnist(dir: string, split: 'train' | 't10k', n: number, seed: number, gz: boolean) {
  const images = randomBytes(n * 28 * 28, seed);
  const labels = randomBytes(n, seed + 1, 10);
  const z = (b: Buffer) => (gz ? gzipSync(b) : b);
  const ext = gz ? '.gz' : '';
  writeFileSync(join(dir, `${split}-images-idx3-ubyte${ext}`), z(idxBytes([n, 28, 28], images)));
  writeFileSync(join(dir, `${split}-labels-idx1-ubyte${ext}`), z(idxBytes([n], labels)));
  return { images, labels };
}

describe('IDX files', () => {
  it('parseIdx reads what an independent writer wrote (3-D images, 1-D labels, odd sizes)', () => {
    for (const dims of [[1], [7], [3, 5, 7], [2, 1, 1, 9]]) {
      const n = dims.reduce((a, b) => a * b, 1);
      const data = randomBytes(n, n);
      const got = parseIdx(new Uint8Array(idxBytes(dims, data)));
      expect(got.dims).toEqual(dims);
      expect([...got.data]).toEqual([...data]);
      // and encodeIdx (used for the caches) writes the same bytes
      expect([...encodeIdx(data, dims)]).toEqual([...idxBytes(dims, data)]);
    }
  });

  it('rejects bad magic, unsupported types and truncated data, naming the source', () => {
    const good = idxBytes([2, 3], randomBytes(6, 1));
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]), 'x.idx')).toThrow(/x\.idx: not an IDX file/);
    const f32 = Buffer.from(good);
    f32[2] = 0x0d;
    expect(() => parseIdx(new Uint8Array(f32), 'f.idx')).toThrow(/0xd \(float\) is not supported/);
    expect(() => parseIdx(new Uint8Array(good.subarray(0, good.length - 1)), 't.idx')).toThrow(/t\.idx: IDX dims \[2,3\] need 6 data bytes, file has 5 \(truncated/);
  });

  it('loadDataset(mnist) reads plain and gzipped IDX files of both splits; limit keeps a prefix', () => {
    const plain = join(tmp, 'plain');
    const gz = join(tmp, 'gz');
    for (const [dir, isGz] of [[plain, false], [gz, true]] as const) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      const train = writeMnist(dir, 'train', 13, 5, isGz);
      const test = writeMnist(dir, 't10k', 3, 9, isGz);
      const tr = loadDataset('mnist', { dir, split: 'train' });
      expect([tr.n, tr.c, tr.h, tr.w]).toEqual([13, 1, 28, 28]);
      expect(tr.images).toEqual(train.images);
      expect(tr.labels).toEqual(train.labels);
      expect(tr.classes).toHaveLength(10);
      const te = loadDataset('mnist', { dir, split: 'test' });
      expect(te.images).toEqual(test.images);
      expect(te.labels).toEqual(test.labels);
      const lim = loadDataset('mnist', { dir, split: 'train', limit: 4 });
      expect(lim.n).toBe(4);
      expect(lim.images).toEqual(train.images.subarray(0, 4 * 784));
      expect(lim.labels).toEqual(train.labels.subarray(0, 4));
      expect(loadDataset('mnist', { dir, split: 'train', limit: 100 }).n).toBe(13);
      expect(loadDataset('mnist', { dir, split: 'train', limit: 0 }).n).toBe(0);
    }
  });

  it('errors name the missing file and the command that gets it; count and label mismatches are caught', () => {
    const dir = join(tmp, 'bad');
    mkdirSync(dir, { recursive: true });
    expect(() => loadDataset('mnist', { dir, split: 'train' })).toThrow(DatasetError);
    expect(() => loadDataset('mnist', { dir, split: 'train' })).toThrow(/mnist: missing .*train-images-idx3-ubyte\(\.gz\)\. Get it with: node datasets\/download\.js mnist/);
    expect(() => loadDataset('fashion-mnist', { dir, split: 'test' })).toThrow(/t10k-images-idx3-ubyte.*convert-fashion-mnist\.js/);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), idxBytes([2, 28, 28], randomBytes(2 * 784, 3)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([3], randomBytes(3, 3, 10)));
    expect(() => loadDataset('mnist', { dir, split: 'train' })).toThrow(/has 2 images but .* has 3 labels/);
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), idxBytes([2], Uint8Array.from([1, 12])));
    expect(() => loadDataset('mnist', { dir, split: 'train' })).toThrow(/label 12 of image 1 .* is not a class index 0\.\.9/);
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), gzipSync(Buffer.from('not gzip data at all')).subarray(0, 12));
    expect(() => loadDataset('mnist', { dir, split: 'train' })).toThrow(/corrupt gzip data/);
    expect(() => loadDataset('mnist', { dir, split: 'train', limit: -1 })).toThrow(/limit must be a non-negative integer/);
  });
});
