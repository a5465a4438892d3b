/**
 * Tensor: a GPU buffer + a shape (NCHW for images, row-major). Data stays on the GPU; `await t.read()`
 * is the only way back and is a sync point.
 *
 * Ownership: every tensor is created inside the device's current scope (see Device.tidy) unless it is
 * `persistent` (parameters, optimizer state, gradients of leaves). Tensors made by ops that record
 * autograd nodes are freed by backward as soon as no backward step needs them (see autograd.ts).
 */
import { ShapeError, shapeStr, WgnasError } from '../gpu/errors.js';
import { backward } from './autograd.js';
import type { Device } from './device.js';

export interface Node {
  /** op name, for errors and the profiler */
  op: string;
  inputs: readonly (Tensor | null)[];
  /** tensors the backward reads (inputs or outputs of the forward, or op-internal ones like BN stats) */
  saved: Tensor[];
  /** given dout (the gradient of the op's output), returns one gradient per input (null: none) */
  backward: (dout: Tensor) => (Tensor | null)[];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid shape ${shapeStr(shape)}`);
    n *= d;
  }
  return n;
}

let nextId = 1;

/** A buffer shared by a tensor and its reshaped views; released when the last of them is disposed. */
export interface Storage {
  buffer: GPUBuffer;
  refs: number;
}

export class Tensor {
  readonly id = nextId++;
  readonly shape: readonly number[];
  readonly size: number;
  requiresGrad: boolean;
  grad: Tensor | null = null;
  node: Node | null = null;
  /** freed by backward once no longer needed, unless retained */
  retained = false;
  persistent: boolean;
  /** made by an op only for its backward (BN statistics, pooling argmax): freed with the graph */
  internal = false;
  label?: string;
  private store: Storage | null;

  constructor(readonly dev: Device, storage: GPUBuffer | Storage, shape: readonly number[], opts: { requiresGrad?: boolean; persistent?: boolean; label?: string } = {}) {
    this.store = 'refs' in storage ? storage : { buffer: storage, refs: 0 };
    this.store.refs++;
    this.shape = [...shape];
    this.size = numel(shape);
    this.requiresGrad = Boolean(opts.requiresGrad);
    this.persistent = Boolean(opts.persistent);
    this.label = opts.label;
  }

  get byteLength(): number {
    return this.size * 4;
  }

  get disposed(): boolean {
    return this.store === null;
  }

  get buffer(): GPUBuffer {
    if (!this.store) throw new WgnasError(`tensor ${this.describe()} was disposed (freed after backward or by a scope); call .retain() before backward or keep it outside tidy() to use it later`);
    return this.store.buffer;
  }

  /** The shared storage, for making views (Device.view). */
  get storage(): Storage {
    void this.buffer; // throws if disposed
    return this.store!;
  }

  /** The binding of exactly this tensor's bytes (pooled buffers may be larger). */
  get binding(): { buffer: GPUBuffer; offset: number; size: number } {
    return { buffer: this.buffer, offset: 0, size: Math.max(4, this.byteLength) };
  }

  describe(): string {
    return `${this.label ?? `#${this.id}`}${shapeStr(this.shape)}`;
  }

  /** Keep this tensor alive through backward (it is otherwise freed once backward no longer needs it). */
  retain(): this {
    this.retained = true;
    return this;
  }

  async read(): Promise<Float32Array> {
    const bytes = await this.dev.readBuffer(this.buffer, this.byteLength);
    return new Float32Array(bytes);
  }

  /** Back-propagates from this tensor (dout defaults to ones); leaf gradients accumulate into .grad. */
  async backward(dout?: Tensor): Promise<void> {
    await backward(this, dout);
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item() needs a one-element tensor, got ${this.describe()}`);
    return (await this.read())[0];
  }

  dispose(): void {
    if (!this.store) return;
    if (--this.store.refs === 0) this.dev.alloc.release(this.store.buffer);
    this.store = null;
    if (this.grad) {
      this.grad.dispose();
      this.grad = null;
    }
    // the node is kept: backward frees unneeded intermediates early, and backward closures still ask
    // whether such an input needs a gradient (input.node !== null); backward clears nodes it has run
  }

}
