/**
 * The runtime around one GPUDevice: kernel dispatch with batching (many dispatches per command
 * encoder, explicit sync points, no readback on the hot path), the buffer allocator, the profiler,
 * and error surfacing (validation errors and device loss rethrown naming the kernel).
 */
import { BufferAllocator, type MemoryStats } from './allocator.js';
import { selectAdapter, type AdapterDescription, type AdapterSpec } from './adapters.js';
import { DeviceLostError, KernelError } from './errors.js';
import { packUniform, PipelineCache, type Overrides, type Params } from './kernel.js';
import { Profiler } from './profiler.js';
import { adapterIdentity, autotuneEnabled, loadTuningCache, type TuningCache } from './tuning-cache.js';

export type BindValue = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface Dispatch {
  shader: string;
  entry: string;
  bind: Record<string, BindValue>;
  params?: Params;
  overrides?: Overrides;
  /** workgroup counts; use grid() to split a large 1-D count over two dimensions */
  workgroups: readonly number[];
  /** shape description for profiler keys and error messages, e.g. "[32,16,28,28] k3 s1" */
  shape?: string;
}

export interface OpenOptions {
  adapter?: AdapterSpec;
  /** validate every dispatch on its own (errors name the exact kernel); print final WGSL of failing kernels */
  debug?: boolean;
  /** fill every op output with NaN before the kernel runs, so unwritten elements show (tests) */
  poison?: boolean;
  /**
   * load this adapter's kernel tuning cache (`wgnas tune`), whose variants then win over the shape-class
   * rules of conv2d and matmul (default: on unless WGNAS_AUTOTUNE=0; off for the test device)
   */
  autotune?: boolean;
}

const BATCH_LIMIT = 256;
/** throttle(): dispatches issued between forced sync points in training loops */
const THROTTLE_DISPATCHES = 4096;

/**
 * Dawn's Node binding waits for GPU work by rescheduling a poll with setImmediate for as long as any GPU
 * promise is pending, which keeps one CPU core busy. On a CPU adapter (lavapipe) that core is taken from
 * the "GPU": measured here, matmul 512³ takes 39 ms while polling and 20 ms without. While a wgnas device
 * on a CPU adapter waits, setImmediate is routed through a 1 ms timer; it is restored when no wait is
 * pending. WGNAS_POLL=busy turns this off; WGNAS_POLL=throttled turns it on for every adapter.
 */
let quietWaits = 0;
let savedSetImmediate: typeof setImmediate | undefined;
async function throttledPolling<T>(p: Promise<T>): Promise<T> {
  if (quietWaits++ === 0) {
    savedSetImmediate = globalThis.setImmediate;
    const viaTimer = (fn: (...args: unknown[]) => void, ...args: unknown[]) => setTimeout(fn, 1, ...args);
    globalThis.setImmediate = viaTimer as unknown as typeof setImmediate;
  }
  try {
    return await p;
  } finally {
    if (--quietWaits === 0 && savedSetImmediate) globalThis.setImmediate = savedSetImmediate;
  }
}

export class GpuDevice {
  readonly alloc: BufferAllocator;
  readonly pipelines: PipelineCache;
  readonly profiler: Profiler;
  readonly hasTimestamps: boolean;
  readonly debug: boolean;
  poison: boolean;
  /** this adapter's kernel tuning cache, when one was loaded (src/gpu/tuning-cache.ts) or set by the tuner */
  tuning?: TuningCache;
  /**
   * Route Dawn's completion polling through a timer while waiting (see throttledPolling): ~1.8× the
   * training throughput on lavapipe. Latency measurement turns it off: with the CPU idle between tiny
   * dispatches, lavapipe's workers go cold and batch-1 networks time 3–4× slower and far noisier.
   */
  quietPolling: boolean;
  private encoder?: GPUCommandEncoder;
  private batch: string[] = [];
  private uniformsInFlight: GPUBuffer[] = [];
  private uniformFree = new Map<number, GPUBuffer[]>();
  private deferred: Promise<Error | null>[] = [];
  private firstError?: Error;
  private lostInfo?: { reason: string; message: string; lastKernel?: string };
  private lastKernel?: string;
  dispatchCount = 0;
  /** dispatchCount at the last sync() */
  private syncedAt = 0;

  constructor(readonly gpu: GPUDevice, readonly adapter: AdapterDescription, opts: OpenOptions = {}) {
    this.debug = Boolean(opts.debug || process.env.WGNAS_DEBUG);
    this.poison = Boolean(opts.poison);
    this.hasTimestamps = gpu.features.has('timestamp-query');
    const poll = process.env.WGNAS_POLL;
    this.quietPolling = poll === 'throttled' || (poll !== 'busy' && adapter.kind === 'cpu');
    this.alloc = new BufferAllocator(gpu);
    this.pipelines = new PipelineCache(gpu);
    this.pipelines.debug = this.debug;
    this.profiler = new Profiler(gpu, this.hasTimestamps);
    if (autotuneEnabled(opts.autotune)) this.tuning = loadTuningCache(adapterIdentity(adapter));
    gpu.lost?.then((info) => {
      this.lostInfo = { reason: String(info.reason), message: info.message, lastKernel: this.lastKernel };
    });
    gpu.addEventListener?.('uncapturederror', (ev: Event) => {
      const err = (ev as GPUUncapturedErrorEvent).error;
      this.firstError ??= new KernelError(`WebGPU error (uncaptured) near kernel ${this.lastKernel ?? '(none yet)'}: ${err.message}`);
    });
  }

  /** Opens the adapter asked for (see selectAdapter) and a device with its full limits and timestamp queries. */
  static async openGpu(opts: OpenOptions = {}): Promise<{ gpu: GPUDevice; adapter: AdapterDescription }> {
    const { adapter, info } = await selectAdapter(opts.adapter ?? 'auto');
    const requiredFeatures: GPUFeatureName[] = [];
    if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
    const requiredLimits: Record<string, number> = {};
    for (const k of ['maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
      'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY']) {
      requiredLimits[k] = (adapter.limits as unknown as Record<string, number>)[k];
    }
    const gpu = await adapter.requestDevice({ requiredFeatures, requiredLimits, label: `wgnas:${info.name}` });
    return { gpu, adapter: info };
  }

  get limits(): GPUSupportedLimits {
    return this.gpu.limits;
  }

  get memory(): MemoryStats {
    return this.alloc.stats;
  }

  private checkLost(): void {
    if (this.lostInfo) {
      const l = this.lostInfo;
      throw new DeviceLostError(`GPU device lost (${l.reason}): ${l.message}${l.lastKernel ? `; last kernel dispatched: ${l.lastKernel}` : ''}`);
    }
  }

  private uniformBuffer(bytes: ArrayBuffer): GPUBuffer {
    const size = bytes.byteLength;
    const buf = this.uniformFree.get(size)?.pop() ??
      this.gpu.createBuffer({ size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: 'wgnas-uniform' });
    // uniform buffers are only reused after the encoder that read them was submitted
    this.gpu.queue.writeBuffer(buf, 0, bytes);
    this.uniformsInFlight.push(buf);
    return buf;
  }

  /** Encodes one kernel dispatch into the current batch. */
  dispatch(d: Dispatch): void {
    this.checkLost();
    const k = this.pipelines.get(d.shader, d.entry, d.overrides, (p) => this.deferred.push(p));
    const where = `${k.label}${d.shape ? ` ${d.shape}` : ''}`;
    const entries: GPUBindGroupEntry[] = [];
    for (const b of k.info.bindings) {
      if (b.type === 'uniform') {
        entries.push({ binding: b.binding, resource: { buffer: this.uniformBuffer(packUniform(k.info, d.params ?? {})) } });
        continue;
      }
      const v = d.bind[b.name];
      if (!v) throw new KernelError(`kernel ${where}: binding "${b.name}" not given (shader declares: ${k.info.bindings.filter((x) => x.type !== 'uniform').map((x) => x.name).join(', ')})`);
      const res = 'buffer' in v ? v : { buffer: v };
      if (res.size !== undefined && (res.size < 4 || res.size % 4 !== 0)) {
        throw new KernelError(`kernel ${where}: binding "${b.name}" has size ${res.size} bytes; storage bindings need a positive multiple of 4`);
      }
      entries.push({ binding: b.binding, resource: res });
    }
    for (const name of Object.keys(d.bind)) {
      if (!k.info.bindings.some((b) => b.name === name)) {
        throw new KernelError(`kernel ${where}: binding "${name}" is not declared by the shader (declares: ${k.info.bindings.map((b) => b.name).join(', ')})`);
      }
    }
    if (!k.info.uniform && d.params && Object.keys(d.params).length) {
      throw new KernelError(`kernel ${where}: params given but the entry point uses no uniform`);
    }
    const maxWg = this.gpu.limits.maxComputeWorkgroupsPerDimension;
    const [x, y = 1, z = 1] = d.workgroups;
    for (const c of [x, y, z]) {
      if (!Number.isInteger(c) || c < 0 || c > maxWg) throw new KernelError(`kernel ${where}: workgroup count ${d.workgroups.join('x')} is outside 0..${maxWg} per dimension`);
    }
    if (x * y * z === 0) return;
    const timed = this.profiler.enabled;
    if (timed && this.profiler.full) this.flush();
    this.encoder ??= this.gpu.createCommandEncoder({ label: 'wgnas-batch' });
    const group = this.gpu.createBindGroup({ layout: k.layout, entries, label: where });
    const pass = this.encoder.beginComputePass({
      label: where,
      timestampWrites: timed ? this.profiler.passWrites(k.label, d.shape ?? '') : undefined,
    });
    pass.setPipeline(k.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
    this.batch.push(where);
    this.lastKernel = where;
    this.dispatchCount++;
    const wall = timed && this.profiler.source === 'wall';
    if (this.debug || wall || this.batch.length >= BATCH_LIMIT) {
      this.flush();
      if (wall) this.profiler.wallAfterSubmit(k.label, d.shape ?? '');
    }
  }

  /** Submits the current batch (no wait). Validation errors of the batch surface at the next sync(). */
  flush(): void {
    if (!this.encoder) return;
    const encoder = this.encoder;
    const kernels = this.batch;
    this.encoder = undefined;
    this.batch = [];
    const afterSubmit = this.profiler.resolve(encoder);
    this.gpu.pushErrorScope('validation');
    this.gpu.queue.submit([encoder.finish()]);
    this.deferred.push(this.gpu.popErrorScope().then((err) => err && new KernelError(
      kernels.length === 1
        ? `WebGPU validation error in kernel ${kernels[0]}: ${err.message}`
        : `WebGPU validation error in a batch of ${kernels.length} kernels (${kernels.slice(-8).join('; ')}): ${err.message}\n` +
          'Run with WGNAS_DEBUG=1 (or openDevice({ debug: true })) to validate each dispatch on its own.',
    )));
    afterSubmit?.();
    this.alloc.onSubmit();
    for (const u of this.uniformsInFlight) {
      let list = this.uniformFree.get(u.size);
      if (!list) this.uniformFree.set(u.size, (list = []));
      list.push(u);
    }
    this.uniformsInFlight = [];
  }

  /** Rethrows the first deferred compile/validation error, if any. */
  async checkErrors(): Promise<void> {
    while (this.deferred.length) {
      const batch = this.deferred;
      this.deferred = [];
      for (const e of await Promise.all(batch)) if (e) this.firstError ??= e;
    }
    if (this.firstError) {
      const e = this.firstError;
      this.firstError = undefined;
      throw e;
    }
    this.checkLost();
  }

  /**
   * A sync point when `limit` or more dispatches were issued since the last one. Training loops call it
   * every step: it bounds the work queued ahead of the GPU (without it a DARTS child queued ~40,000
   * dispatches between its every-50-steps log syncs, and a long run on lavapipe ended in a Dawn
   * segfault), at the cost of one wait per `limit` dispatches.
   */
  async throttle(limit = THROTTLE_DISPATCHES): Promise<void> {
    if (this.dispatchCount - this.syncedAt >= limit) await this.sync();
  }

  /** Explicit sync point: submit, wait for the GPU, collect profiler records, surface errors. */
  async sync(): Promise<void> {
    this.checkLost();
    this.flush();
    this.syncedAt = this.dispatchCount;
    await this.wait(this.gpu.queue.onSubmittedWorkDone());
    await this.wait(this.profiler.settle());
    await this.checkErrors();
  }

  /** Awaits a GPU promise (with throttled polling on CPU adapters). */
  wait<T>(p: Promise<T>): Promise<T> {
    return this.quietPolling ? throttledPolling(p) : p;
  }

  /** Copies `bytes` bytes of a buffer back to the CPU (a sync point). */
  async readBuffer(buffer: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    this.checkLost();
    const size = Math.ceil(bytes / 4) * 4;
    this.encoder ??= this.gpu.createCommandEncoder({ label: 'wgnas-batch' });
    const staging = this.gpu.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'wgnas-readback' });
    this.encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
    this.flush();
    await this.checkErrors();
    await this.wait(staging.mapAsync(GPUMapMode.READ));
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    await this.checkErrors();
    return out;
  }

  /** A fresh storage buffer holding `data` (safe against pending work: never a buffer freed into the open batch). */
  upload(data: ArrayBufferView, label?: string): GPUBuffer {
    const buf = this.alloc.alloc(data.byteLength, label, true);
    this.gpu.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /** Overwrites an existing buffer; flushes first so the write lands after all encoded work. */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.flush();
    this.gpu.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Runs fn with every dispatch timed; returns its result after the records are collected. */
  async profile<T>(fn: () => T | Promise<T>): Promise<T> {
    this.flush();
    this.profiler.enable();
    try {
      const r = await fn();
      this.flush();
      return r;
    } finally {
      this.profiler.disable();
      await this.sync();
    }
  }

  destroy(): void {
    this.flush();
    this.gpu.destroy();
  }
}

/** Workgroup counts for n invocations of a 1-D kernel of `wg` lanes, split over x and y when n is large. */
export function grid(n: number, wg: number, maxPerDim = 65535): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= maxPerDim) return [groups, 1];
  const y = Math.ceil(groups / maxPerDim);
  return [Math.ceil(groups / y), y];
}
