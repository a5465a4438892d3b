/**
 * CIFAR-10 binary batches (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"): each
 * record is 1 label byte then 3072 pixel bytes, 1024 red, 1024 green, 1024 blue, each 32×32 row-major —
 * already CHW. Train = data_batch_1..5.bin (10,000 records each), test = test_batch.bin.
 */
import { DatasetError, findFile, readBytes } from './files.js';
import type { Split } from './dataset.js';

export const CIFAR_C = 3;
export const CIFAR_H = 32;
export const CIFAR_W = 32;
export const CIFAR_PIXELS = CIFAR_C * CIFAR_H * CIFAR_W;
export const CIFAR_RECORD = 1 + CIFAR_PIXELS;

export const CIFAR_FILES: Record<Split, readonly string[]> = {
  train: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'],
  test: ['test_batch.bin'],
};

/** The folder the official archive unpacks to; files there are found too. */
export const CIFAR_ARCHIVE_DIR = 'cifar-10-batches-bin';

export interface CifarBatch {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Splits one batch file's records into CHW images and labels; `limit` keeps the first records. */
export function parseCifarBatch(bytes: Uint8Array, what = 'CIFAR-10 batch', limit?: number): CifarBatch {
  if (bytes.length % CIFAR_RECORD !== 0) {
    throw new DatasetError(`${what}: ${bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records (truncated or not CIFAR-10 binary)`);
  }
  const total = bytes.length / CIFAR_RECORD;
  const n = limit === undefined ? total : Math.min(limit, total);
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const at = i * CIFAR_RECORD;
    labels[i] = bytes[at];
    if (labels[i] > 9) throw new DatasetError(`${what}: record ${i} has label ${labels[i]}; CIFAR-10 labels are 0..9`);
    images.set(bytes.subarray(at + 1, at + CIFAR_RECORD), i * CIFAR_PIXELS);
  }
  return { images, labels, n };
}

/** Reads a split's batch files from dir (or dir/cifar-10-batches-bin), in order, up to `limit` images. */
export function readCifarSplit(dir: string, split: Split, limit: number | undefined, missing: (file: string) => Error): CifarBatch & { files: string[] } {
  const paths = CIFAR_FILES[split].map((f) => {
    const p = findFile(dir, [f, `${CIFAR_ARCHIVE_DIR}/${f}`]);
    if (!p) throw missing(`${dir}/${f}`);
    return p;
  });
  const parts: CifarBatch[] = [];
  const files: string[] = [];
  let n = 0;
  for (const p of paths) {
    if (limit !== undefined && n >= limit) break;
    const b = parseCifarBatch(readBytes(p), p, limit === undefined ? undefined : limit - n);
    parts.push(b);
    files.push(p);
    n += b.n;
  }
  if (parts.length === 1) return { ...parts[0], files };
  const images = new Uint8Array(n * CIFAR_PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const b of parts) {
    images.set(b.images, at * CIFAR_PIXELS);
    labels.set(b.labels, at);
    at += b.n;
  }
  return { images, labels, n, files };
}
