/**
 * What the ops need from the autotuner: the key of an op call, the cache lookup that resolves a call's
 * variant, and a recorder of the calls a piece of code makes (`wgnas tune` records the calls of the
 * reference suite or of a search step, then tunes exactly those).
 *
 * Granularity: the EXACT shape. A NAS network makes a few dozen distinct conv/GEMM calls that repeat
 * every step, so exact keys cost little and need no guess about which shapes behave alike. Keys:
 *
 *     conv2d.<pass>|n=|cin=|h=|w=|cout=|k=|s=|p=|d=|g=      pass: forward | backward_input | backward_weight
 *     gemm.<tA><tB>|b=|m=|n=|k=|sa=|sb=|sc=                 tA/tB: n (plain) or t (transposed); batch, strides
 *
 * A conv pass and the GEMM it may run are separate keys: conv2d's gemm path calls gemm(), which resolves
 * its own variant. An explicit `variant` option never reaches the lookup.
 */
import type { GpuDevice } from '../gpu/gpu-device.js';
import type { Conv2dGeometry } from './conv2d.js';

export type Conv2dPass = 'forward' | 'backward_input' | 'backward_weight';
export const CONV2D_PASSES: readonly Conv2dPass[] = ['forward', 'backward_input', 'backward_weight'];

export interface Conv2dCall {
  op: 'conv2d';
  pass: Conv2dPass;
  g: Conv2dGeometry;
}

export interface GemmCall {
  op: 'gemm';
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  batch: number;
  /** element strides between batches of a, b and out */
  strides: readonly [number, number, number];
}

export type TuneCall = Conv2dCall | GemmCall;

export function tuneKey(c: TuneCall): string {
  if (c.op === 'conv2d') {
    const g = c.g;
    return `conv2d.${c.pass}|n=${g.N}|cin=${g.Cin}|h=${g.H}|w=${g.W}|cout=${g.Cout}|k=${g.k}|s=${g.stride}|p=${g.pad}|d=${g.dil}|g=${g.groups}`;
  }
  const [sa, sb, sc] = c.strides;
  return `gemm.${c.transA ? 't' : 'n'}${c.transB ? 't' : 'n'}|b=${c.batch}|m=${c.M}|n=${c.N}|k=${c.K}|sa=${sa}|sb=${sb}|sc=${sc}`;
}

let recorder: Map<string, TuneCall> | undefined;

/** Runs fn and returns every distinct call (in first-seen order) whose variant the ops resolved meanwhile. */
export async function recordTuneCalls(fn: () => unknown): Promise<TuneCall[]> {
  const outer = recorder;
  const calls = new Map<string, TuneCall>();
  recorder = calls;
  try {
    await fn();
  } finally {
    recorder = outer;
    if (outer) for (const [k, c] of calls) if (!outer.has(k)) outer.set(k, c);
  }
  return [...calls.values()];
}

/**
 * The variant of a call from the device's tuning cache, when it has an entry that is legal for the call
 * (`legal` is the op's own rule); undefined otherwise, and the op falls back to its shape-class rule.
 * An entry naming an illegal or unknown variant is ignored, with one warning per key, and never dispatched.
 */
export function tunedVariant<V extends string>(dev: GpuDevice, call: () => TuneCall, legal: (v: string) => v is V): V | undefined {
  const cache = dev.tuning;
  if (!cache && !recorder) return undefined;
  const c = call();
  const key = tuneKey(c);
  if (recorder && !recorder.has(key)) recorder.set(key, c);
  const v = cache?.variant(key);
  if (v === undefined) return undefined;
  if (legal(v)) {
    cache!.hits++;
    return v;
  }
  if (!cache!.ignored.has(key)) {
    cache!.ignored.add(key);
    console.warn(`wgnas: the kernel tuning cache names variant "${v}" for ${key}, which cannot run that shape; ignored (shape-class rule used)`);
  }
  return undefined;
}
