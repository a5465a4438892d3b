/**
 * Inference latency of a whole network (or any forward function) on the attached adapter.
 *
 * GPU time of one forward = the SUM of its dispatch times, each dispatch timed by the profiler in its
 * own compute pass with timestamp queries (as kernels-bench's timePass). Gaps between dispatches and
 * host-side encoding are not in it: it is what the kernels cost, the quantity a LUT of per-op kernel
 * times adds up to. Where the adapter has no 'timestamp-query' the profiler times each dispatch from
 * submit to done instead (source 'wall'; includes launch overhead). The statistics over repeats are
 * taken per dispatch, then summed (see ForwardTiming for why).
 *
 * For comparison, the host WALL time of a forward is measured in separate, unprofiled repeats: from the
 * first op call (encoding) through submit until the queue reports the work done.
 *
 * Every forward runs in eval mode, under noGrad, inside tidy (its tensors are freed at once). NaN
 * poisoning of op outputs (a test device) is switched off while timing: those fills would be timed too.
 *
 * Timestamp resolution: Dawn QUANTIZES timestamps by default (its `timestamp_quantization` toggle, a
 * browser side-channel guard): on lavapipe every delta is a multiple of 2^16 ns = 65.5 µs, coarser than
 * most single kernels of a small network. openProfilingDevice opens the adapter on a Dawn instance with
 * that toggle disabled (nanosecond deltas); the LUT and latency commands use it.
 *
 * "Measured latency" of a network, wherever wgnas reports one (the search's target calibration,
 * result.json, `wgnas latency`), is ONE protocol, LATENCY_PROTOCOL: 3 sessions, each of 5 warm-up
 * forwards then 30 timed rounds, each timed forward right after one untimed forward of the same network
 * (`settle`), networks measured together interleaved round by round; a session's statistic is Σ over
 * dispatches of each one's median, and the median session is reported. Why sessions: on lavapipe a whole
 * session now and then reads 10–30% off (seen on the first measurement after a heavy evaluation, and
 * under bursts of other load) while its repeats agree with each other, so no per-repeat statistic
 * rejects it; the median of 3 sessions does.
 * Why the settle forward: interleaved networks evict each other's weights from the caches, so without it
 * a network timed between larger ones reads up to 6% slower than timed alone (lavapipe, NB201 cells of
 * 2–3 ms); with it the two agree within the noise (±3%), and a network's number no longer depends on
 * what it was measured with.
 */
import { WgnasError } from '../gpu/errors.js';
import type { OpenOptions } from '../gpu/gpu-device.js';
import { quantile, type TimeSource } from '../gpu/profiler.js';
import { openDevice, type Device } from '../tensor/device.js';
import { seededValues } from '../tensor/host-random.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';

export interface TimingOptions {
  /** forwards run first, untimed, in both modes (pipeline compilation, allocator warm-up); default 3 */
  warmup?: number;
  /** timed forwards: `repeats` profiled (GPU time) and `repeats` unprofiled (wall time); default 10 */
  repeats?: number;
  /** untimed forwards of the same function right before each timed one (warm caches when interleaving); default 0 */
  settle?: number;
}

/** Timing of whole networks: `sessions` whole timing sessions (warm-up and repeats), the median session reported. */
export interface NetworkTimingOptions extends TimingOptions {
  sessions?: number;
}

/** The timing protocol of "measured latency" (see the file comment). */
export const LATENCY_PROTOCOL: Readonly<Required<NetworkTimingOptions>> = Object.freeze({ warmup: 5, repeats: 30, settle: 1, sessions: 3 });

/** Median / p10 / p90 of `count` samples, in ms. */
export interface LatencyStats {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  count: number;
}

/**
 * The timing of one forward. medianMs / p10Ms / p90Ms: each DISPATCH's quantile over the repeats,
 * summed over the dispatches of the forward. On a quiet device this equals the quantile of the per-forward
 * sums (sumMedianMs, kernels-bench's definition); on a shared CPU adapter (lavapipe next to other work) a
 * preemption lands on some dispatch of almost every forward of ~60 kernels and spoils that whole sum,
 * while per dispatch it is an outlier the median rejects. When repeats recorded different dispatch
 * counts (dropped timestamps) the per-forward sums are used instead. Per-dispatch quantiles need a fine
 * clock: on Dawn's quantized timestamps a kernel shorter than one tick has median 0 (openProfilingDevice).
 */
export interface ForwardTiming extends LatencyStats {
  /** median over the repeats of the per-forward sums of dispatch times */
  sumMedianMs: number;
  /** Σ over dispatches of each one's fastest time: a lower bound, least disturbed by other load */
  minMs: number;
  /** median host wall time of one unprofiled forward (encode → submit → done) */
  wallMedianMs: number;
  /** kernel dispatches in one forward */
  dispatches: number;
  source: TimeSource;
  /** raw per-dispatch times: perDispatchMs[r][i] = dispatch i of repeat r */
  perDispatchMs: number[][];
}

/** The result of measureNetworkLatency (fields as in ForwardTiming). */
export interface NetworkLatency {
  medianMs: number;
  p10Ms: number;
  p90Ms: number;
  sumMedianMs: number;
  minMs: number;
  wallMedianMs: number;
  dispatches: number;
  source: TimeSource;
  /** timed repeats per session */
  repeats: number;
  /** each session's medianMs, in order (medianMs is their median) */
  sessionMediansMs: number[];
}

/** Stats of a sample list (any order). */
export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) throw new WgnasError('latencyStats: no samples');
  const s = [...samples].sort((a, b) => a - b);
  return { medianMs: quantile(s, 0.5), p10Ms: quantile(s, 0.1), p90Ms: quantile(s, 0.9), count: s.length };
}

/**
 * Per-dispatch statistics of repeated forwards (runs[r][i] = time of dispatch i in repeat r): each
 * dispatch's median / p10 / p90 / minimum over the repeats, summed over dispatches. Falls back to the
 * statistics of the per-forward sums when the repeats have different lengths.
 */
export function dispatchStats(runs: readonly (readonly number[])[]): LatencyStats & { minMs: number; sumMedianMs: number } {
  if (runs.length === 0) throw new WgnasError('dispatchStats: no runs');
  const sums = latencyStats(runs.map((r) => r.reduce((a, v) => a + v, 0)));
  const n = runs[0].length;
  if (runs.some((r) => r.length !== n)) return { ...sums, minMs: Math.min(...runs.map((r) => r.reduce((a, v) => a + v, 0))), sumMedianMs: sums.medianMs };
  const out = { medianMs: 0, p10Ms: 0, p90Ms: 0, count: runs.length, minMs: 0, sumMedianMs: sums.medianMs };
  for (let i = 0; i < n; i++) {
    const col = runs.map((r) => r[i]).sort((a, b) => a - b);
    out.medianMs += quantile(col, 0.5);
    out.p10Ms += quantile(col, 0.1);
    out.p90Ms += quantile(col, 0.9);
    out.minMs += col[0];
  }
  return out;
}

function checkTiming(what: string, o: TimingOptions): Required<TimingOptions> {
  const warmup = o.warmup ?? 3;
  const repeats = o.repeats ?? 10;
  const settle = o.settle ?? 0;
  if (!Number.isInteger(warmup) || warmup < 0) throw new WgnasError(`${what}: warmup must be an integer >= 0, got ${warmup}`);
  if (!Number.isInteger(repeats) || repeats < 1) throw new WgnasError(`${what}: repeats must be an integer >= 1, got ${repeats}`);
  if (!Number.isInteger(settle) || settle < 0) throw new WgnasError(`${what}: settle must be an integer >= 0, got ${settle}`);
  return { warmup, repeats, settle };
}

/** Collects the profiled and wall-clock runs of one forward function. */
class ForwardRuns {
  readonly gpu: number[][] = [];
  readonly wall: number[] = [];
  private dispatches = -1;
  private readonly forward: () => void;

  constructor(private readonly dev: Device, run: () => void, private readonly what: string) {
    this.forward = () => dev.tidy(() => dev.noGrad(() => {
      run();
    }));
  }

  /** One forward in each mode, not recorded (the first profiled forward pays one-off costs too). */
  async warm(): Promise<void> {
    await this.dev.profile(this.forward);
    this.dev.profiler.records = [];
    this.forward();
    await this.dev.sync();
  }

  async profiled(settle = 0): Promise<void> {
    const dev = this.dev;
    for (let i = 0; i < settle; i++) this.forward();
    dev.profiler.records = [];
    const before = dev.dispatchCount;
    await dev.profile(this.forward);
    const n = dev.dispatchCount - before;
    if (this.dispatches >= 0 && n !== this.dispatches) {
      throw new WgnasError(`${this.what}: the forward issued ${n} dispatches, ${this.dispatches} before; a timed forward must do the same work each time`);
    }
    this.dispatches = n;
    this.gpu.push(dev.profiler.records.map((rec) => rec.ms));
  }

  async walled(settle = 0): Promise<void> {
    for (let i = 0; i < settle; i++) this.forward();
    if (settle > 0) await this.dev.sync();
    const t0 = performance.now();
    this.forward();
    await this.dev.sync();
    this.wall.push(performance.now() - t0);
  }

  result(): ForwardTiming {
    const st = dispatchStats(this.gpu);
    return { ...st, wallMedianMs: latencyStats(this.wall).medianMs, dispatches: this.dispatches, source: this.dev.profiler.source, perDispatchMs: this.gpu };
  }
}

/** Runs fn with output poisoning off and the profiler's earlier records kept aside (restored after). */
async function timingSession<T>(dev: Device, fn: () => Promise<T>): Promise<T> {
  const poison = dev.poison;
  const quiet = dev.quietPolling;
  const kept = dev.profiler.records;
  dev.poison = false;
  // busy polling while timing: steadier latencies of small dispatches on CPU adapters (gpu-device.ts)
  dev.quietPolling = false;
  dev.profiler.records = [];
  try {
    return await fn();
  } finally {
    dev.profiler.records = kept;
    dev.poison = poison;
    dev.quietPolling = quiet;
  }
}

/**
 * Times `run` (which encodes one forward; a tidy around it frees its tensors): `warmup` forwards in
 * each mode, then `repeats` profiled forwards (GPU time from the dispatch times) and `repeats`
 * unprofiled ones (wall time).
 */
export async function timeForward(dev: Device, run: () => void, opts: TimingOptions = {}): Promise<ForwardTiming> {
  return (await timeInterleaved(dev, [run], opts))[0];
}

/**
 * Times several forwards with their repeats INTERLEAVED (round r times each of them once), so a change
 * in background load over the session affects all of them alike instead of whichever ran then.
 * `onRound(r)` is called after each profiled round.
 */
export async function timeInterleaved(dev: Device, runs: readonly (() => void)[], opts: TimingOptions & { onRound?: (round: number, repeats: number) => void } = {}): Promise<ForwardTiming[]> {
  const { warmup, repeats, settle } = checkTiming('timeForward', opts);
  return timingSession(dev, async () => {
    const all = runs.map((run, i) => new ForwardRuns(dev, run, runs.length > 1 ? `timeForward (forward ${i})` : 'timeForward'));
    for (const f of all) for (let i = 0; i < warmup; i++) await f.warm();
    for (let r = 0; r < repeats; r++) {
      for (const f of all) await f.profiled(settle);
      opts.onRound?.(r, repeats);
    }
    for (let r = 0; r < repeats; r++) for (const f of all) await f.walled(settle);
    return all.map((f) => f.result());
  });
}

/** A persistent input tensor of uniform values in [-1, 1) (seeded), owned by the caller. */
export function randomInput(dev: Device, shape: readonly number[], seed = 1): Tensor {
  if (shape.some((d) => !Number.isInteger(d) || d < 1)) throw new WgnasError(`randomInput: shape [${shape.join(',')}] must be positive integers`);
  const n = shape.reduce((a, b) => a * b, 1);
  return dev.tensor(seededValues(n, seed), shape, { persistent: true, label: 'latency-input' });
}

/** Runs fn with every module of `models` in eval mode, then restores each module's own mode. */
export async function inEvalMode<T>(models: Module | readonly Module[], fn: () => Promise<T>): Promise<T> {
  const list: readonly Module[] = Array.isArray(models) ? models : [models as Module];
  const modes = list.flatMap((model) => model.modules().map((m) => [m, m.training] as const));
  for (const m of list) m.eval();
  try {
    return await fn();
  } finally {
    for (const [m, t] of modes) m.training = t;
  }
}

function toNetworkLatency(t: ForwardTiming): Omit<NetworkLatency, 'sessionMediansMs'> {
  return {
    medianMs: t.medianMs, p10Ms: t.p10Ms, p90Ms: t.p90Ms, sumMedianMs: t.sumMedianMs, minMs: t.minMs, wallMedianMs: t.wallMedianMs,
    dispatches: t.dispatches, source: t.source, repeats: t.count,
  };
}

/**
 * Inference latency of `model` on an input of `inputShape` (NCHW): GPU time of one forward (Σ of its
 * dispatch times; median, p10, p90 over `repeats`) and the median wall time for comparison. Timing
 * options default to LATENCY_PROTOCOL.
 */
export async function measureNetworkLatency(dev: Device, model: Module, inputShape: readonly number[], opts: TimingOptions & { seed?: number } = {}): Promise<NetworkLatency> {
  return (await measureNetworkLatencies(dev, [model], inputShape, opts))[0];
}

/** measureNetworkLatency of several models on one input shape, their repeats interleaved (timeInterleaved). */
export async function measureNetworkLatencies(dev: Device, models: readonly Module[], inputShape: readonly number[],
  opts: NetworkTimingOptions & { seed?: number; onRound?: (round: number, repeats: number) => void } = {}): Promise<NetworkLatency[]> {
  if (inputShape.length !== 4) throw new WgnasError(`measureNetworkLatency: input shape must be [N, C, H, W], got [${inputShape.join(',')}]`);
  const { sessions, ...timing } = { ...LATENCY_PROTOCOL, ...opts };
  if (!Number.isInteger(sessions) || sessions < 1) throw new WgnasError(`measureNetworkLatency: sessions must be an integer >= 1, got ${sessions}`);
  const x = randomInput(dev, inputShape, opts.seed ?? 1);
  try {
    const runs = models.map((model) => () => {
      model.forward(x);
    });
    const all: ForwardTiming[][] = [];
    for (let k = 0; k < sessions; k++) {
      const onRound = opts.onRound && ((r: number, n: number) => opts.onRound!(k * n + r, sessions * n));
      all.push(await inEvalMode(models, () => timeInterleaved(dev, runs, { ...timing, onRound })));
    }
    return models.map((_, i) => {
      const perSession = all.map((s) => s[i]);
      // the session of median medianMs: one disturbed session (a burst of other load, the first one after
      // heavy work) is rejected whole
      const order = perSession.map((t, k) => [t.medianMs, k] as const).sort((a, b) => a[0] - b[0]);
      return { ...toNetworkLatency(perSession[order[(sessions - 1) >> 1][1]]), sessionMediansMs: perSession.map((t) => t.medianMs) };
    });
  } finally {
    x.dispose();
  }
}

/**
 * A device for timing. Every wgnas device now has nanosecond timestamps (src/gpu/adapters.ts disables
 * Dawn's timestamp quantization), so this is openDevice plus whether timestamps are available at all.
 */
export async function openProfilingDevice(opts: OpenOptions = {}): Promise<{ dev: Device; exactTimestamps: boolean }> {
  const dev = await openDevice(opts);
  return { dev, exactTimestamps: dev.hasTimestamps };
}
