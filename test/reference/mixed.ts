/** float64 references for shaders/mixed.wgsl: the DARTS mixed edge Σ_k w[k]·x_k and its gradients. */

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
