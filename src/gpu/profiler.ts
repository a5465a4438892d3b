/**
 * GPU-time profiler. One class owns the query set and its buffers.
 *
 * Timed mode puts every dispatch in its own compute pass with beginning/end timestamp writes, so a
 * record is the GPU time of exactly one dispatch. Negative deltas (clock resets) and unwritten
 * timestamps are dropped and counted in `dropped`. Where the adapter lacks 'timestamp-query', the device submits
 * each dispatch on its own and the time between consecutive completions is used instead: such records
 * carry source 'wall' and include submit/launch overhead. Zero deltas (kernels shorter than a clock
 * tick) are kept as 0.
 */

export type TimeSource = 'timestamp' | 'wall';

export interface KernelRecord {
  kernel: string;
  shape: string;
  ms: number;
  source: TimeSource;
}

export interface KernelSummary {
  kernel: string;
  shape: string;
  count: number;
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  meanMs: number;
  totalMs: number;
  source: TimeSource;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Aggregates records by (kernel, shape): median, p10, p90, mean, total; sorted by total time. */
export function summarize(records: readonly KernelRecord[]): KernelSummary[] {
  const groups = new Map<string, KernelRecord[]>();
  for (const r of records) {
    const k = `${r.kernel}\u0000${r.shape}`;
    let g = groups.get(k);
    if (!g) groups.set(k, (g = []));
    g.push(r);
  }
  const out: KernelSummary[] = [];
  for (const g of groups.values()) {
    const ms = g.map((r) => r.ms).sort((a, b) => a - b);
    const total = ms.reduce((a, b) => a + b, 0);
    out.push({
      kernel: g[0].kernel,
      shape: g[0].shape,
      count: ms.length,
      medianMs: quantile(ms, 0.5),
      p10Ms: quantile(ms, 0.1),
      p90Ms: quantile(ms, 0.9),
      meanMs: total / ms.length,
      totalMs: total,
      source: g[0].source,
    });
  }
  return out.sort((a, b) => b.totalMs - a.totalMs);
}

const CAPACITY = 1024; // dispatches per query set

export class Profiler {
  readonly source: TimeSource;
  records: KernelRecord[] = [];
  dropped = 0;
  private enabledDepth = 0;
  private querySet?: GPUQuerySet;
  private resolveBuf?: GPUBuffer;
  private pendingLabels: { kernel: string; shape: string }[] = [];
  private readbacks: GPUBuffer[] = [];
  private inflight: Promise<void>[] = [];
  private lastWallDone = 0;

  constructor(private device: GPUDevice, hasTimestamps: boolean) {
    this.source = hasTimestamps ? 'timestamp' : 'wall';
  }

  get enabled(): boolean {
    return this.enabledDepth > 0;
  }
  enable(): void {
    this.enabledDepth++;
  }
  disable(): void {
    this.enabledDepth = Math.max(0, this.enabledDepth - 1);
  }
  /** True when the query set is full and the device must flush before the next timed dispatch. */
  get full(): boolean {
    return this.pendingLabels.length >= CAPACITY;
  }

  /** Timestamp writes for the pass of one dispatch (timestamp mode), recording its label. */
  passWrites(kernel: string, shape: string): GPUComputePassTimestampWrites | undefined {
    if (this.source !== 'timestamp') return undefined;
    if (!this.querySet) {
      this.querySet = this.device.createQuerySet({ type: 'timestamp', count: 2 * CAPACITY, label: 'wgnas-profiler' });
      this.resolveBuf = this.device.createBuffer({ size: 16 * CAPACITY, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC, label: 'wgnas-profiler-resolve' });
    }
    const i = this.pendingLabels.length;
    this.pendingLabels.push({ kernel, shape });
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Before encoder.finish(): resolve this batch's queries into a mappable buffer. */
  resolve(encoder: GPUCommandEncoder): (() => void) | undefined {
    const n = this.pendingLabels.length;
    if (n === 0 || !this.querySet || !this.resolveBuf) return undefined;
    const labels = this.pendingLabels;
    this.pendingLabels = [];
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const rb = this.readbacks.pop() ?? this.device.createBuffer({ size: 16 * CAPACITY, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'wgnas-profiler-readback' });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, rb, 0, 16 * n);
    // after submit: map and turn begin/end pairs into records
    return () => {
      this.inflight.push(rb.mapAsync(GPUMapMode.READ, 0, 16 * n).then(() => {
        const t = new BigUint64Array(rb.getMappedRange(0, 16 * n).slice(0));
        rb.unmap();
        this.readbacks.push(rb);
        for (let i = 0; i < n; i++) {
          // a zero delta is a real (sub-tick) measurement; a negative one or an unwritten begin is not
          const ns = Number(t[2 * i + 1] - t[2 * i]);
          if (ns < 0 || t[2 * i] === 0n) {
            this.dropped++;
            continue;
          }
          this.records.push({ ...labels[i], ms: ns / 1e6, source: 'timestamp' });
        }
      }));
    };
  }

  /** Wall mode: called right after a single-dispatch submit. */
  wallAfterSubmit(kernel: string, shape: string): void {
    const submitted = performance.now();
    this.inflight.push(this.device.queue.onSubmittedWorkDone().then(() => {
      const done = performance.now();
      const start = Math.max(submitted, this.lastWallDone);
      this.lastWallDone = done;
      const ms = done - start;
      if (ms > 0) this.records.push({ kernel, shape, ms, source: 'wall' });
      else this.dropped++;
    }));
  }

  /** Waits until every submitted timed batch has been read back. */
  async settle(): Promise<void> {
    while (this.inflight.length) {
      const batch = this.inflight;
      this.inflight = [];
      await Promise.all(batch);
    }
  }

  summary(): KernelSummary[] {
    return summarize(this.records);
  }

  reset(): void {
    this.records = [];
    this.dropped = 0;
  }
}
