/**
 * float64 references for shaders/batchnorm.wgsl (NCHW, per-channel statistics over N·H·W), following
 * PyTorch's F.batch_norm. Pure functions: no vitest import (kernels-bench uses them too).
 */
import type { OpParams } from '../../src/ops/registry.js';

export interface BnRefOptions {
  weight?: ArrayLike<number>;
  bias?: ArrayLike<number>;
  runningMean?: ArrayLike<number>;
  runningVar?: ArrayLike<number>;
  training: boolean;
  momentum?: number;
  eps?: number;
}

export interface BnRefResult {
  out: Float64Array;
  /** statistics used to normalise (batch mean / biased variance in training, running stats otherwise) */
  mean: Float64Array;
  variance: Float64Array;
  /** running stats after the call (training: updated with the unbiased variance; inference: unchanged) */
  runningMean?: Float64Array;
  runningVar?: Float64Array;
}

function channelOf(shape: readonly number[]): (i: number) => number {
  const [, c, h, w] = shape;
  return (i) => Math.floor(i / (h * w)) % c;
}

export function batchNormRef(x: ArrayLike<number>, shape: readonly number[], o: BnRefOptions): BnRefResult {
  const [n, c, h, w] = shape;
  const count = n * h * w;
  const ch = channelOf(shape);
  const eps = o.eps ?? 1e-5;
  const momentum = o.momentum ?? 0.1;
  let mean = new Float64Array(c);
  let variance = new Float64Array(c);
  let runningMean = o.runningMean && Float64Array.from(o.runningMean);
  let runningVar = o.runningVar && Float64Array.from(o.runningVar);
  if (o.training) {
    for (let i = 0; i < x.length; i++) mean[ch(i)] += x[i] / count;
    for (let i = 0; i < x.length; i++) variance[ch(i)] += (x[i] - mean[ch(i)]) ** 2 / count;
    if (runningMean && runningVar) {
      runningMean = runningMean.map((r, k) => (1 - momentum) * r + momentum * mean[k]);
      runningVar = runningVar.map((r, k) => (1 - momentum) * r + momentum * variance[k] * count / (count - 1));
    }
  } else {
    mean = Float64Array.from(o.runningMean!);
    variance = Float64Array.from(o.runningVar!);
  }
  const out = Float64Array.from(x, (v, i) => {
    const k = ch(i);
    const xhat = (v - mean[k]) / Math.sqrt(variance[k] + eps);
    return o.weight ? xhat * o.weight[k] + o.bias![k] : xhat;
  });
  return { out, mean, variance, runningMean, runningVar };
}

/** Gradients of Σ dout·y with respect to x, weight and bias. */
export function batchNormBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>, shape: readonly number[], o: BnRefOptions): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const [n, c, h, w] = shape;
  const count = n * h * w;
  const ch = channelOf(shape);
  const eps = o.eps ?? 1e-5;
  const { mean, variance } = batchNormRef(x, shape, o);
  const istd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const xhat = Float64Array.from(x, (v, i) => (v - mean[ch(i)]) * istd[ch(i)]);
  const dweight = new Float64Array(c);
  const dbias = new Float64Array(c);
  for (let i = 0; i < x.length; i++) {
    dbias[ch(i)] += dout[i];
    dweight[ch(i)] += dout[i] * xhat[i];
  }
  const dinp = Float64Array.from(x, (_, i) => {
    const k = ch(i);
    const scale = (o.weight ? o.weight[k] : 1) * istd[k];
    if (!o.training) return scale * dout[i];
    return scale * (dout[i] - dbias[k] / count - xhat[i] * dweight[k] / count);
  });
  return { dinp, dweight, dbias };
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench reference (registered batch_norm2d: training mode; inputs x, dout, weight, bias; params N, C, H, W, affine). */
export const BATCHNORM_REFERENCES: Record<string, Reference> = {
  batch_norm2d: ({ x, dout, weight, bias }, p, pass) => {
    const shape = [p.N, p.C, p.H, p.W];
    const o: BnRefOptions = p.affine ? { weight, bias, training: true } : { training: true };
    if (pass === 'forward') return [batchNormRef(x, shape, o).out];
    const g = batchNormBackwardRef(x, dout, shape, o);
    return [g.dinp, g.dweight, g.dbias];
  },
};
