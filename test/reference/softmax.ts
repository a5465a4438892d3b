/** float64 references for shaders/softmax.wgsl: row-wise softmax / log-softmax over [rows, k]. */
import type { OpParams } from '../../src/ops/registry.js';

export function softmaxRef(x: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += k) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x[base + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += (out[base + j] = Math.exp(x[base + j] - m));
    for (let j = 0; j < k; j++) out[base + j] /= s;
  }
  return out;
}

export function logSoftmaxRef(x: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += k) {
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x[base + j]);
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(x[base + j] - m);
    const lse = m + Math.log(s);
    for (let j = 0; j < k; j++) out[base + j] = x[base + j] - lse;
  }
  return out;
}

/** dinp of y = softmax(x) given dout: y ⊙ (dout − Σ dout⊙y) per row */
export function softmaxBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>, k: number): Float64Array {
  const y = softmaxRef(x, k);
  const dinp = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += k) {
    let d = 0;
    for (let j = 0; j < k; j++) d += dout[base + j] * y[base + j];
    for (let j = 0; j < k; j++) dinp[base + j] = y[base + j] * (dout[base + j] - d);
  }
  return dinp;
}

/** dinp of y = log_softmax(x) given dout: dout − softmax(x)·Σ dout per row */
export function logSoftmaxBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>, k: number): Float64Array {
  const p = softmaxRef(x, k);
  const dinp = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += k) {
    let s = 0;
    for (let j = 0; j < k; j++) s += dout[base + j];
    for (let j = 0; j < k; j++) dinp[base + j] = dout[base + j] - p[base + j] * s;
  }
  return dinp;
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench reference (registered softmax: inputs x [rows, k], dout, y = softmax(x); params rows, k). */
export const SOFTMAX_REFERENCES: Record<string, Reference> = {
  softmax: ({ x, dout }, p, pass) => [pass === 'forward' ? softmaxRef(x, p.k) : softmaxBackwardRef(x, dout, p.k)],
};
