/**
 * GPU-resident batching. A GpuDataset uploads a split ONCE: images as u8 packed 4 per u32 word (a
 * 60,000×784 f32 copy would not fit the 128 MiB storage-binding limit; u8 takes a quarter), labels as
 * u32, and an order buffer of dataset indices. Each batch is then one `gather` dispatch of
 * shaders/data.wgsl per image chunk: it reads the batch's indices from the order buffer (by offset),
 * normalises per channel, optionally augments (random crop with zero padding + horizontal flip, keyed by
 * (seed, epoch, index)), and writes x [B, C, H, W] and y [B] (class indices as f32) — no host transfer.
 * The per-epoch order is a seeded permutation computed in TS (bookkeeping) and uploaded once per epoch.
 * A split larger than one storage binding (CIFAR-10 train: 154 MB) is stored as several chunks of whole
 * images; each gather dispatch writes the batch entries of its chunk.
 */
import { sizeClass } from '../gpu/allocator.js';
import { ShapeError, shapeStr, WgnasError } from '../gpu/errors.js';
import { grid } from '../gpu/gpu-device.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { DATASETS, loadDataset, type DatasetName, type ImageSet, type LoadOptions } from './dataset.js';
import { permutation } from './hash.js';

const SHADER = 'data.wgsl';
const WG = 256;
const MAX_PAD = 255;

export interface Augment {
  /** random crop from the image zero-padded by this many pixels on each side (0: none) */
  pad?: number;
  /** random horizontal flip with probability 1/2 */
  flip?: boolean;
}

/** The standard CIFAR training augmentation: 4-pixel padded random crop + horizontal flip. */
export const CIFAR_AUGMENT: Readonly<Augment> = { pad: 4, flip: true };

export interface GpuDatasetOptions {
  /** per-channel mean / std of pixel/255 (default: the dataset's published constants, else 0 and 1) */
  mean?: readonly number[];
  std?: readonly number[];
  augment?: Augment;
  /** seeds the epoch permutations and the augmentation draws */
  seed?: number;
  /** largest image buffer (default: the device's storage-binding and buffer limits); tests lower it */
  maxChunkBytes?: number;
}

export interface Batch {
  /** [B, C, H, W] normalised images */
  x: Tensor;
  /** [B] class indices as f32 */
  y: Tensor;
}

interface Chunk {
  first: number;
  count: number;
  buffer: GPUBuffer;
  bytes: number;
}

function identity(n: number): Uint32Array {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function ceil4(b: number): number {
  return Math.max(4, Math.ceil(b / 4) * 4);
}

export class GpuDataset {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly mean: readonly number[];
  readonly std: readonly number[];
  readonly pad: number;
  readonly flip: boolean;
  readonly seed: number;
  /** the current order of dataset indices (identity until shuffle()) */
  order: Uint32Array;
  /** the epoch of the current order; it also keys the augmentation draws */
  epoch = 0;
  private chunks: Chunk[] = [];
  private labelBuf: GPUBuffer;
  private orderBuf: GPUBuffer;
  private released = false;

  constructor(readonly dev: Device, data: ImageSet & { name?: DatasetName }, opts: GpuDatasetOptions = {}) {
    const { n, c, h, w } = data;
    const what = `GpuDataset ${data.name ?? ''}[${n},${c},${h},${w}]`;
    for (const [k, v] of Object.entries({ n, c, h, w })) {
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${what}: ${k} must be a positive integer, got ${v}`);
    }
    if (c > 4) throw new ShapeError(`${what}: at most 4 channels (the kernel's mean/std are vec4), got ${c}`);
    if (data.images.length !== n * c * h * w) throw new ShapeError(`${what}: images hold ${data.images.length} bytes, want n·c·h·w = ${n * c * h * w}`);
    if (data.labels.length !== n) throw new ShapeError(`${what}: ${data.labels.length} labels for ${n} images`);
    const known = data.name ? DATASETS[data.name] : undefined;
    this.mean = [...(opts.mean ?? known?.mean ?? new Array<number>(c).fill(0))];
    this.std = [...(opts.std ?? known?.std ?? new Array<number>(c).fill(1))];
    if (this.mean.length !== c || this.std.length !== c) throw new ShapeError(`${what}: mean/std need ${c} values, got ${this.mean.length}/${this.std.length}`);
    if (this.std.some((s) => !(s > 0) || !Number.isFinite(s)) || this.mean.some((m) => !Number.isFinite(m))) {
      throw new ShapeError(`${what}: mean must be finite and std positive, got mean [${this.mean}] std [${this.std}]`);
    }
    this.pad = opts.augment?.pad ?? 0;
    this.flip = Boolean(opts.augment?.flip);
    if (!Number.isInteger(this.pad) || this.pad < 0 || this.pad > MAX_PAD) throw new ShapeError(`${what}: augment.pad must be an integer 0..${MAX_PAD}, got ${this.pad}`);
    this.seed = opts.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff) throw new ShapeError(`${what}: seed must be a u32, got ${this.seed}`);
    this.n = n;
    this.c = c;
    this.h = h;
    this.w = w;

    const imageBytes = c * h * w;
    const perChunk = Math.floor(this.chunkLimit(opts.maxChunkBytes) / imageBytes);
    if (perChunk < 1) throw new ShapeError(`${what}: one image (${imageBytes} bytes) exceeds the largest buffer (${this.chunkLimit(opts.maxChunkBytes)} bytes)`);
    for (let first = 0; first < n; first += perChunk) {
      const count = Math.min(perChunk, n - first);
      let bytes = data.images.subarray(first * imageBytes, (first + count) * imageBytes);
      if (bytes.length % 4 !== 0) {
        const padded = new Uint8Array(ceil4(bytes.length));
        padded.set(bytes);
        bytes = padded;
      }
      this.chunks.push({ first, count, buffer: dev.upload(bytes, 'dataset.images'), bytes: bytes.length });
    }
    this.labelBuf = dev.upload(Uint32Array.from(data.labels), 'dataset.labels');
    this.order = identity(n);
    this.orderBuf = dev.upload(this.order, 'dataset.order');
  }

  /** Loads a split (see loadDataset) and uploads it; CIFAR-10 train gets CIFAR_AUGMENT unless `augment` is given. */
  static load(dev: Device, name: DatasetName, opts: LoadOptions & GpuDatasetOptions): GpuDataset {
    const data = loadDataset(name, opts);
    const augment = opts.augment ?? (name === 'cifar10' && opts.split === 'train' ? CIFAR_AUGMENT : undefined);
    return new GpuDataset(dev, data, { ...opts, augment });
  }

  private chunkLimit(asked: number | undefined): number {
    const lim = this.dev.limits;
    let bytes = Math.min(asked ?? Infinity, lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    while (sizeClass(bytes) > lim.maxBufferSize) bytes = Math.floor(bytes * 0.8);
    return Math.floor(bytes / 4) * 4;
  }

  /** Image chunks on the GPU (1 unless the split exceeds one storage binding). */
  get chunkCount(): number {
    return this.chunks.length;
  }

  /** GPU bytes held (images + labels + order). */
  get bytes(): number {
    return this.chunks.reduce((a, ch) => a + ch.bytes, 0) + 8 * this.n;
  }

  /** Starts an epoch: the order becomes the seeded permutation of (seed, epoch), uploaded once. */
  shuffle(epoch: number): void {
    this.setOrder(permutation(this.n, this.seed, epoch), epoch);
  }

  /** Identity order (evaluation); `epoch` still keys the augmentation draws. */
  ordered(epoch = 0): void {
    this.setOrder(identity(this.n), epoch);
  }

  private setOrder(order: Uint32Array, epoch: number): void {
    this.check();
    if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new ShapeError(`GpuDataset: epoch must be a u32, got ${epoch}`);
    this.order = order;
    this.epoch = epoch;
    this.dev.write(this.orderBuf, order);
  }

  /** Number of batches of an epoch; without dropLast the last one may be partial. */
  batchCount(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.n / batchSize) : Math.ceil(this.n / batchSize);
  }

  /** The batch at positions offset..offset+size-1 of the current order. Tensors belong to the current scope. */
  batch(offset: number, size: number, opts: { augment?: boolean } = {}): Batch {
    this.check();
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 1 || offset + size > this.n) {
      throw new ShapeError(`GpuDataset.batch: offset ${offset} + size ${size} is outside the ${this.n} images`);
    }
    return this.run(this.orderBuf, this.n, offset, size, opts.augment ?? true);
  }

  /** Batches of the current order; the last is partial unless dropLast. Dispose each (or run inside tidy). */
  *batches(batchSize: number, opts: { dropLast?: boolean; augment?: boolean } = {}): Generator<Batch & { offset: number; size: number }> {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ShapeError(`GpuDataset.batches: batch size must be a positive integer, got ${batchSize}`);
    const count = this.batchCount(batchSize, opts.dropLast);
    for (let k = 0; k < count; k++) {
      const offset = k * batchSize;
      const size = Math.min(batchSize, this.n - offset);
      yield { ...this.batch(offset, size, opts), offset, size };
    }
  }

  /** The images with these dataset indices, in this order (augmented with the current epoch's draws). */
  gather(indices: ArrayLike<number>, opts: { augment?: boolean } = {}): Batch {
    this.check();
    if (indices.length < 1) throw new ShapeError('GpuDataset.gather: empty index list');
    const list = new Uint32Array(indices.length);
    for (let i = 0; i < indices.length; i++) {
      const v = indices[i];
      if (!Number.isInteger(v) || v < 0 || v >= this.n) throw new ShapeError(`GpuDataset.gather: index ${v} (at ${i}) is outside 0..${this.n - 1}`);
      list[i] = v;
    }
    const buf = this.dev.upload(list, 'dataset.gather-indices');
    try {
      return this.run(buf, list.length, 0, list.length, opts.augment ?? true);
    } finally {
      this.dev.alloc.release(buf);
    }
  }

  private run(orderBuf: GPUBuffer, orderLength: number, offset: number, size: number, augment: boolean): Batch {
    const { c, h, w, dev } = this;
    const x = dev.empty([size, c, h, w], { label: 'batch.x' });
    const y = dev.empty([size], { label: 'batch.y' });
    const vec4 = (v: readonly number[], fill: number) => [0, 1, 2, 3].map((i) => v[i] ?? fill);
    for (const ch of this.chunks) {
      dev.dispatch({
        shader: SHADER,
        entry: 'gather',
        bind: {
          inp: { buffer: ch.buffer, size: ceil4(ch.bytes) },
          labels: { buffer: this.labelBuf, size: 4 * this.n },
          order: { buffer: orderBuf, size: 4 * orderLength },
          out: x.binding,
          out_labels: y.binding,
        },
        params: {
          batch: size, offset, first: ch.first, count: ch.count, c, h, w,
          seed: this.seed, epoch: this.epoch,
          pad: augment ? this.pad : 0, flip: augment && this.flip ? 1 : 0,
          mean: vec4(this.mean, 0), stdev: vec4(this.std, 1),
        },
        workgroups: grid(size * c * h * w, WG),
        shape: `${shapeStr(x.shape)} from ${this.n} chunk ${ch.first}+${ch.count}`,
      });
    }
    return { x, y };
  }

  private check(): void {
    if (this.released) throw new WgnasError('GpuDataset: used after dispose()');
  }

  /** Frees the GPU buffers. */
  dispose(): void {
    if (this.released) return;
    this.released = true;
    for (const ch of this.chunks) this.dev.alloc.release(ch.buffer);
    this.dev.alloc.release(this.labelBuf);
    this.dev.alloc.release(this.orderBuf);
    this.chunks = [];
  }
}
