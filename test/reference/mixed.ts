/** float64 references for shaders/mixed.wgsl: the DARTS mixed edge Σ_k w[k]·x_k and its gradients. */
import type { OpParams } from '../../src/ops/registry.js';

export function mixedSumRef(xs: readonly ArrayLike<number>[], w: ArrayLike<number>): Float64Array {
  const out = new Float64Array(xs[0].length);
  xs.forEach((x, k) => {
    for (let i = 0; i < out.length; i++) out[i] += w[k] * x[i];
  });
  return out;
}

/** dinp_k = w[k]·dout; dweight[k] = Σ dout ⊙ x_k */
export function mixedSumBackwardRef(xs: readonly ArrayLike<number>[], w: ArrayLike<number>, dout: ArrayLike<number>): { dinp: Float64Array[]; dweight: Float64Array } {
  const dinp = xs.map((_, k) => Float64Array.from(dout, (d) => w[k] * d));
  const dweight = Float64Array.from(xs, (x) => {
    let s = 0;
    for (let i = 0; i < dout.length; i++) s += dout[i] * x[i];
    return s;
  });
  return { dinp, dweight };
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/**
 * kernels-bench reference (registered mixed_sum: inputs x0..x{k-1} [n], weights [k], dout [n]; params k, n).
 * forward → [out]; backward_input → one dinp per candidate, in order; backward_weight → [dweight].
 */
export const MIXED_REFERENCES: Record<string, Reference> = {
  mixed_sum: (inputs, p, pass) => {
    const xs = Array.from({ length: p.k }, (_, k) => inputs[`x${k}`]);
    if (pass === 'forward') return [mixedSumRef(xs, inputs.weights)];
    const g = mixedSumBackwardRef(xs, inputs.weights, inputs.dout);
    return pass === 'backward_input' ? g.dinp : [g.dweight];
  },
};
