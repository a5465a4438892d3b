/**
 * float64 references for shaders/matmul.wgsl: GEMM with transpose flags, linear, bias add/backward.
 * Pure functions: no vitest import (kernels-bench uses them too).
 */
import type { OpParams } from '../../src/ops/registry.js';

/**
 * op(a) · op(b) → [M,N]; a is stored [M,K] (or [K,M] with transA), b is stored [K,N] (or [N,K] with transB).
 */
export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number, transA = false, transB = false): Float64Array {
  const out = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let acc = 0;
      for (let k = 0; k < K; k++) acc += a[transA ? k * M + m : m * K + k] * b[transB ? n * K + k : k * N + n];
      out[m * N + n] = acc;
    }
  }
  return out;
}

/** Transpose of a row-major [R,C] matrix. */
export function transposeRef(a: ArrayLike<number>, R: number, C: number): Float64Array {
  const t = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c];
  return t;
}

/** x [N,in] · weightᵀ (weight [out,in]) + bias [out] → [N,out] */
export function linearRef(x: ArrayLike<number>, weight: ArrayLike<number>, bias: ArrayLike<number> | null, N: number, fin: number, fout: number): Float64Array {
  const out = matmulRef(x, weight, N, fin, fout, false, true);
  if (bias) for (let i = 0; i < out.length; i++) out[i] += bias[i % fout];
  return out;
}

/** Linear backward from first principles (loops, no GEMM calls): dx, dweight, dbias. */
export function linearBackwardRef(dout: ArrayLike<number>, x: ArrayLike<number>, weight: ArrayLike<number>, N: number, fin: number, fout: number): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dx = new Float64Array(N * fin);
  const dweight = new Float64Array(fout * fin);
  const dbias = new Float64Array(fout);
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < fout; o++) {
      const d = dout[n * fout + o];
      dbias[o] += d;
      for (let i = 0; i < fin; i++) {
        dx[n * fin + i] += d * weight[o * fin + i];
        dweight[o * fin + i] += d * x[n * fin + i];
      }
    }
  }
  return { dx, dweight, dbias };
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench references by registered op name (inputs a [M,K], b [K,N], dout [M,N]). */
export const MATMUL_REFERENCES: Record<string, Reference> = {
  matmul: ({ a, b, dout }, p, pass) => {
    if (pass === 'forward') return [matmulRef(a, b, p.M, p.K, p.N)];
    if (pass === 'backward_a') return [matmulRef(dout, b, p.M, p.N, p.K, false, true)];
    return [matmulRef(a, dout, p.K, p.M, p.N, true, false)];
  },
};
