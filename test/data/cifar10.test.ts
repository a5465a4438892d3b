import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCifarBatch } from '../../src/data/cifar10.js';
import { loadDataset } from '../../src/data/dataset.js';
import { extractCifarArchive, readTar } from '../../src/data/download.js';
import { rng } from '../helpers.js';

const PIX = 3 * 32 * 32;

/** Test-side CIFAR-10 binary writer: per record 1 label byte, then R, G, B planes of 32×32. */
function cifarBytes(images: Uint8Array, labels: Uint8Array): Buffer {
  const out = Buffer.alloc(labels.length * (PIX + 1));
  labels.forEach((l, i) => {
    out[i * (PIX + 1)] = l;
    out.set(images.subarray(i * PIX, (i + 1) * PIX), i * (PIX + 1) + 1);
  });
  return out;
}

function randomSet(n: number, seed: number) {
  const r = rng(seed);
  return {
    images: Uint8Array.from({ length: n * PIX }, () => Math.floor(r() * 256)),
    labels: Uint8Array.from({ length: n }, () => Math.floor(r() * 10)),
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'wgnas-cifar-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Five train batches of 2, 3, 1, 4, 2 records and a test batch of 5, in `dir`. */
function writeSplits(dir: string) {
  mkdirSync(dir, { recursive: true });
  const sizes = [2, 3, 1, 4, 2];
  const all = randomSet(12, 3);
  let at = 0;
  sizes.forEach((s, k) => {
    writeFileSync(join(dir, `data_batch_${k + 1}.bin`), cifarBytes(all.images.subarray(at * PIX, (at + s) * PIX), all.labels.subarray(at, at + s)));
    at += s;
  });
  const test = randomSet(5, 4);
  writeFileSync(join(dir, 'test_batch.bin'), cifarBytes(test.images, test.labels));
  return { train: all, test };
}

describe('CIFAR-10 binary batches', () => {
  it('round trip: records become CHW images and labels, batches concatenate in order, limit spans batches', () => {
    const dir = join(tmp, 'plain');
    const want = writeSplits(dir);
    const tr = loadDataset('cifar10', { dir, split: 'train' });
    expect([tr.n, tr.c, tr.h, tr.w]).toEqual([12, 3, 32, 32]);
    expect(tr.images).toEqual(want.train.images);
    expect(tr.labels).toEqual(want.train.labels);
    expect(tr.classes[0]).toBe('airplane');
    const te = loadDataset('cifar10', { dir, split: 'test' });
    expect(te.images).toEqual(want.test.images);
    expect(te.labels).toEqual(want.test.labels);
    for (const limit of [0, 1, 2, 3, 6, 12, 50]) {
      const l = loadDataset('cifar10', { dir, split: 'train', limit });
      expect(l.n).toBe(Math.min(limit, 12));
      expect(l.images).toEqual(want.train.images.subarray(0, l.n * PIX));
      expect(l.labels).toEqual(want.train.labels.subarray(0, l.n));
    }
    // a pixel spot check against the record layout itself: record 1 of batch 2 is image 3
    const raw = cifarBytes(want.train.images, want.train.labels);
    expect(tr.images[3 * PIX + 1024 + 5 * 32 + 7]).toBe(raw[3 * (PIX + 1) + 1 + 1024 + 5 * 32 + 7]); // green, y 5, x 7
  });

  it('rejects truncated batches and bad labels; a missing batch names the file and the command', () => {
    const set = randomSet(2, 8);
    const bytes = new Uint8Array(cifarBytes(set.images, set.labels));
    expect(() => parseCifarBatch(bytes.subarray(0, bytes.length - 10), 'b.bin')).toThrow(/b\.bin: 6136 bytes is not a whole number of 3073-byte records/);
    bytes[3073] = 10;
    expect(() => parseCifarBatch(bytes, 'b.bin')).toThrow(/record 1 has label 10/);
    const dir = join(tmp, 'missing');
    mkdirSync(dir, { recursive: true });
    expect(() => loadDataset('cifar10', { dir, split: 'test' })).toThrow(/cifar10: missing .*test_batch\.bin\. Get it with: node datasets\/download\.js cifar10/);
  });

  it('the official archive layout (made by GNU tar) is extracted and then loads', () => {
    const src = join(tmp, 'archive-src');
    const want = writeSplits(join(src, 'cifar-10-batches-bin'));
    writeFileSync(join(src, 'cifar-10-batches-bin', 'batches.meta.txt'), 'airplane\n');
    const archive = join(tmp, 'cifar-10-binary.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', src, 'cifar-10-batches-bin']);
    const out = join(tmp, 'extracted');
    expect(extractCifarArchive(archive, out)).toHaveLength(6);
    const tr = loadDataset('cifar10', { dir: out, split: 'train' });
    expect(tr.images).toEqual(want.train.images);
    expect(loadDataset('cifar10', { dir: out, split: 'test' }).labels).toEqual(want.test.labels);
    // the loader also finds the batches inside the archive's own folder
    expect(loadDataset('cifar10', { dir: src, split: 'test' }).labels).toEqual(want.test.labels);
  });

  it('readTar reads long names (GNU and pax formats) and skips directories', () => {
    const src = join(tmp, 'tar-src');
    const deep = join(src, 'a'.repeat(60), 'b'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'file.bin'), Buffer.from([1, 2, 3]));
    for (const format of ['gnu', 'posix']) {
      const tarPath = join(tmp, `long-${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', tarPath, '-C', src, '.']);
      const entries = readTar(new Uint8Array(readFileSync(tarPath)));
      expect(entries.size, format).toBe(1);
      const [[name, bytes]] = [...entries];
      expect(name).toBe(`./${'a'.repeat(60)}/${'b'.repeat(60)}/file.bin`);
      expect([...bytes]).toEqual([1, 2, 3]);
    }
  });
});
