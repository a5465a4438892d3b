/** float64 references for shaders/loss.wgsl: softmax cross-entropy with integer labels, accuracy. */
import type { OpParams } from '../../src/ops/registry.js';
import { logSoftmaxRef, softmaxRef } from './softmax.js';

function validLabel(l: number, c: number): boolean {
  return Number.isInteger(l) && l >= 0 && l < c;
}

/** mean over rows of −log softmax(logits)[label]; NaN if any label is not an integer in [0, c) */
export function crossEntropyRef(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): number {
  const ls = logSoftmaxRef(logits, c);
  let s = 0;
  for (let i = 0; i < labels.length; i++) s += validLabel(labels[i], c) ? -ls[i * c + labels[i]] : NaN;
  return s / labels.length;
}

/** d(mean CE)/dlogits · dout = (softmax − onehot)/n · dout; rows with invalid labels are NaN */
export function crossEntropyBackwardRef(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number, dout = 1): Float64Array {
  const p = softmaxRef(logits, c);
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const ok = validLabel(labels[i], c);
    for (let j = 0; j < c; j++) {
      p[i * c + j] = ok ? ((p[i * c + j] - (j === labels[i] ? 1 : 0)) / n) * dout : NaN;
    }
  }
  return p;
}

/** number of rows whose first arg-max equals the label */
export function accuracyRef(logits: ArrayLike<number>, labels: ArrayLike<number>, c: number): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (logits[i * c + j] > logits[i * c + best]) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/**
 * kernels-bench reference (registered cross_entropy: inputs logits [n, c], labels [n], lse [n] (the
 * forward's per-row log-sum-exp, rewritten by each forward), dout [1]; params n, c). The forward returns
 * the [1] batch-mean loss, the backward d loss/d logits scaled by dout[0].
 */
export const LOSS_REFERENCES: Record<string, Reference> = {
  cross_entropy: ({ logits, labels, dout }, p, pass) => [
    pass === 'forward' ? Float64Array.of(crossEntropyRef(logits, labels, p.c)) : crossEntropyBackwardRef(logits, labels, p.c, dout[0]),
  ],
};
