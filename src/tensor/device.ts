/**
 * Device: the GPU runtime plus tensor factories, scopes (tidy) and grad mode.
 * `openDevice({ adapter })` is the entry point of the library.
 */
import { GpuDevice, grid, type OpenOptions } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { numel, Tensor } from './tensor.js';

export interface TensorOptions {
  requiresGrad?: boolean;
  /** not owned by any scope: lives until disposed (parameters, optimizer state) */
  persistent?: boolean;
  label?: string;
}

const WG = 256;

export class Device extends GpuDevice {
  private scopes: Set<Tensor>[] = [];
  private noGradDepth = 0;

  /** False inside noGrad(): ops then record no autograd nodes. */
  get gradEnabled(): boolean {
    return this.noGradDepth === 0;
  }

  /** Registers a tensor with the innermost scope (unless persistent). */
  own(t: Tensor): Tensor {
    if (!t.persistent && this.scopes.length) this.scopes[this.scopes.length - 1].add(t);
    return t;
  }

  /** Removes a tensor from every scope (it now outlives them, e.g. a leaf's gradient). */
  disown(t: Tensor): void {
    for (const s of this.scopes) s.delete(t);
  }

  /** Wraps a buffer from the allocator as a tensor owned by the current scope. */
  wrap(buffer: GPUBuffer, shape: readonly number[], opts: TensorOptions = {}): Tensor {
    return this.own(new Tensor(this, buffer, shape, opts));
  }

  /** An uninitialised tensor for a kernel to write (NaN-filled first when the device poisons outputs). */
  empty(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    const t = this.wrap(this.alloc.alloc(Math.max(4, numel(shape) * 4), opts.label), shape, opts);
    if (this.poison && t.size > 0) this.fillBuffer(t, NaN);
    return t;
  }

  /** A tensor holding a copy of `data` (NCHW for images). */
  tensor(data: Float32Array | readonly number[], shape: readonly number[] = [data.length], opts: TensorOptions = {}): Tensor {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    if (numel(shape) !== arr.length) throw new ShapeError(`tensor: ${arr.length} values do not fill shape ${shapeStr(shape)}`);
    const padded = arr.length === 0 ? new Float32Array(1) : arr;
    return this.wrap(this.upload(padded, opts.label), shape, opts);
  }

  /** A trainable leaf: persistent and requiring grad. */
  parameter(data: Float32Array | readonly number[], shape: readonly number[], label?: string): Tensor {
    return this.tensor(data, shape, { requiresGrad: true, persistent: true, label });
  }

  full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
    const t = this.wrap(this.alloc.alloc(Math.max(4, numel(shape) * 4), opts.label), shape, opts);
    if (t.size > 0) this.fillBuffer(t, value);
    return t;
  }

  zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
    return this.full(shape, 0, opts);
  }

  /** A tensor sharing t's storage with another shape of the same size. */
  view(t: Tensor, shape: readonly number[], opts: TensorOptions = {}): Tensor {
    if (numel(shape) !== t.size) throw new ShapeError(`view: ${t.describe()} has ${t.size} elements, ${shapeStr(shape)} has ${numel(shape)}`);
    return this.own(new Tensor(this, t.storage, shape, opts));
  }

  fillBuffer(t: Tensor, value: number): void {
    this.dispatch({ shader: 'core.wgsl', entry: 'fill', bind: { out: t.binding }, params: { n: t.size, value }, workgroups: grid(t.size, WG), shape: shapeStr(t.shape) });
  }

  /** dst = src, element-wise (overwrites). */
  copyInto(dst: Tensor, src: Tensor): void {
    this.checkSame('copy', dst, src);
    this.dispatch({ shader: 'core.wgsl', entry: 'copy', bind: { inp: src.binding, dst: dst.binding }, params: { n: dst.size }, workgroups: grid(dst.size, WG), shape: shapeStr(dst.shape) });
  }

  /** dst += src, element-wise (accumulates). */
  accumulate(dst: Tensor, src: Tensor): void {
    this.checkSame('accumulate', dst, src);
    this.dispatch({ shader: 'core.wgsl', entry: 'accumulate', bind: { inp: src.binding, dst: dst.binding }, params: { n: dst.size }, workgroups: grid(dst.size, WG), shape: shapeStr(dst.shape) });
  }

  /** a·x + y as a new tensor. */
  axpy(a: number, x: Tensor, y: Tensor): Tensor {
    this.checkSame('axpy', x, y);
    const res = this.empty(x.shape);
    this.dispatch({ shader: 'core.wgsl', entry: 'axpy', bind: { x: x.binding, y: y.binding, res: res.binding }, params: { n: x.size, a }, workgroups: grid(x.size, WG), shape: shapeStr(x.shape) });
    return res;
  }

  clone(t: Tensor, opts: TensorOptions = {}): Tensor {
    const c = this.wrap(this.alloc.alloc(Math.max(4, t.byteLength), opts.label), t.shape, opts);
    this.copyInto(c, t);
    return c;
  }

  private checkSame(op: string, a: Tensor, b: Tensor): void {
    if (a.size !== b.size) throw new ShapeError(`${op}: shapes ${shapeStr(a.shape)} and ${shapeStr(b.shape)} differ in size`);
  }

  /**
   * Runs fn in a scope: every non-persistent tensor created inside is disposed at the end, except the
   * tensors in fn's result (a tensor, or an array/object of tensors one level deep).
   */
  tidy<T>(fn: () => T): T;
  tidy<T>(fn: () => Promise<T>): Promise<T>;
  tidy<T>(fn: () => T | Promise<T>): T | Promise<T> {
    const scope = new Set<Tensor>();
    this.scopes.push(scope);
    const finish = (result: T): T => {
      this.scopes.splice(this.scopes.lastIndexOf(scope), 1);
      const keep = new Set<Tensor>();
      const visit = (v: unknown): void => {
        if (v instanceof Tensor) keep.add(v);
      };
      if (Array.isArray(result)) result.forEach(visit);
      else if (result instanceof Tensor) visit(result);
      else if (result && typeof result === 'object') Object.values(result).forEach(visit);
      for (const t of scope) {
        if (keep.has(t)) this.own(t);
        else t.dispose();
      }
      return result;
    };
    let r: T | Promise<T>;
    try {
      r = fn();
    } catch (e) {
      finish(undefined as T);
      throw e;
    }
    if (r instanceof Promise) return r.then(finish, (e) => { finish(undefined as T); throw e; });
    return finish(r);
  }

  /** Runs fn without recording autograd nodes. */
  noGrad<T>(fn: () => T): T {
    this.noGradDepth++;
    try {
      return fn();
    } finally {
      this.noGradDepth--;
    }
  }
}

/** Opens a WebGPU device on the adapter asked for: 'auto' | 'discrete' | 'integrated' | 'cpu' | part of a name. */
export async function openDevice(opts: OpenOptions = {}): Promise<Device> {
  const { gpu, adapter } = await GpuDevice.openGpu(opts);
  return new Device(gpu, adapter, opts);
}
