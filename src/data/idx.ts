/**
 * IDX files (the MNIST / Fashion-MNIST format): a 4-byte magic [0, 0, type, ndims], ndims big-endian
 * u32 sizes, then the values row-major. Only unsigned bytes (type 0x08) are read: images [N, H, W]
 * and labels [N]. Files may be gzipped (.gz, detected by content).
 */
import { DatasetError, findFile, readBytes } from './files.js';
import type { Split } from './dataset.js';

export const IDX_UBYTE = 0x08;
const TYPE_NAMES: Record<number, string> = { 0x08: 'ubyte', 0x09: 'byte', 0x0b: 'short', 0x0c: 'int', 0x0d: 'float', 0x0e: 'double' };

export interface Idx {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes of type ubyte; `what` names the source in errors. */
export function parseIdx(bytes: Uint8Array, what = 'IDX data'): Idx {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DatasetError(`${what}: not an IDX file (magic ${[...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ')}, want 00 00 08 nd)`);
  }
  const type = bytes[2];
  const nd = bytes[3];
  if (type !== IDX_UBYTE) throw new DatasetError(`${what}: IDX element type 0x${type.toString(16)} (${TYPE_NAMES[type] ?? 'unknown'}) is not supported; wgnas reads ubyte (0x08)`);
  const head = 4 + 4 * nd;
  if (nd === 0 || bytes.length < head) throw new DatasetError(`${what}: truncated IDX header (${nd} dims, ${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < nd; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  if (bytes.length - head !== count) {
    throw new DatasetError(`${what}: IDX dims [${dims.join(',')}] need ${count} data bytes, file has ${bytes.length - head}${bytes.length - head < count ? ' (truncated download?)' : ''}`);
  }
  return { dims, data: bytes.subarray(head) };
}

/** Encodes ubyte data with the given dims as IDX bytes. */
export function encodeIdx(data: Uint8Array, dims: readonly number[]): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new DatasetError(`encodeIdx: dims [${dims.join(',')}] hold ${count} values, data has ${data.length}`);
  if (dims.length === 0 || dims.length > 255) throw new DatasetError(`encodeIdx: ${dims.length} dims; IDX needs 1..255`);
  const head = 4 + 4 * dims.length;
  const out = new Uint8Array(head + data.length);
  const view = new DataView(out.buffer);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, head);
  return out;
}

/** Official IDX file stems of each split (MNIST and Fashion-MNIST use the same names). */
export const IDX_FILES: Record<Split, { images: string; labels: string }> = {
  train: { images: 'train-images-idx3-ubyte', labels: 'train-labels-idx1-ubyte' },
  test: { images: 't10k-images-idx3-ubyte', labels: 't10k-labels-idx1-ubyte' },
};

/** Accepted names for one stem: plain, gzipped, and the dotted variant some extractors write. */
export function idxNames(stem: string): string[] {
  const dotted = stem.replace(/-idx(\d)-ubyte$/, '.idx$1-ubyte');
  return [stem, `${stem}.gz`, dotted, `${dotted}.gz`];
}

/** True when both files of both splits are in dir. */
export function hasIdxSplits(dir: string): boolean {
  return (['train', 'test'] as const).every((s) => findFile(dir, idxNames(IDX_FILES[s].images)) && findFile(dir, idxNames(IDX_FILES[s].labels)));
}

export interface IdxSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
  files: string[];
}

/**
 * Reads the images + labels of one split from dir. `missing(file)` builds the error for a missing
 * file (it names the command that gets it). `limit` keeps the first images.
 */
export function readIdxSplit(dir: string, split: Split, limit: number | undefined, missing: (file: string) => Error): IdxSplit {
  const stems = IDX_FILES[split];
  const imgPath = findFile(dir, idxNames(stems.images));
  if (!imgPath) throw missing(`${dir}/${stems.images}(.gz)`);
  const lblPath = findFile(dir, idxNames(stems.labels));
  if (!lblPath) throw missing(`${dir}/${stems.labels}(.gz)`);
  const img = parseIdx(readBytes(imgPath), imgPath);
  const lbl = parseIdx(readBytes(lblPath), lblPath);
  if (img.dims.length !== 3) throw new DatasetError(`${imgPath}: image IDX must have dims [N, H, W], got [${img.dims.join(',')}]`);
  if (lbl.dims.length !== 1) throw new DatasetError(`${lblPath}: label IDX must have dims [N], got [${lbl.dims.join(',')}]`);
  const [count, h, w] = img.dims;
  if (lbl.dims[0] !== count) throw new DatasetError(`${imgPath} has ${count} images but ${lblPath} has ${lbl.dims[0]} labels`);
  const n = limit === undefined ? count : Math.min(limit, count);
  return {
    images: img.data.slice(0, n * h * w),
    labels: lbl.data.slice(0, n),
    n,
    h,
    w,
    files: [imgPath, lblPath],
  };
}
