/**
 * float64 references for the conv2d family (shaders/conv2d*.wgsl), NCHW, weight [Cout, Cin/groups, k, k].
 * All three passes walk the same (output position, tap) pairs in the forward direction: the backward
 * references SCATTER into the input and weight gradients, the opposite order to the kernels' gathers,
 * so the two are independent. Pure functions: no vitest import (kernels-bench uses them too).
 */
import type { OpParams } from '../../src/ops/registry.js';

export interface ConvGeom {
  N: number; Cin: number; H: number; W: number;
  Cout: number; k: number; stride: number; pad: number; dil: number; groups: number;
}

export function convOut(g: ConvGeom): { Hout: number; Wout: number } {
  const span = g.dil * (g.k - 1) + 1;
  return { Hout: Math.floor((g.H + 2 * g.pad - span) / g.stride) + 1, Wout: Math.floor((g.W + 2 * g.pad - span) / g.stride) + 1 };
}

/** Calls fn(outIndex, inIndex, weightIndex) for every output element and every tap that reads a real input. */
function eachTap(g: ConvGeom, fn: (o: number, i: number, w: number) => void): void {
  const { Hout, Wout } = convOut(g);
  const cinG = g.Cin / g.groups;
  const coutG = g.Cout / g.groups;
  for (let n = 0; n < g.N; n++) {
    for (let co = 0; co < g.Cout; co++) {
      const grp = Math.floor(co / coutG);
      for (let oy = 0; oy < Hout; oy++) {
        for (let ox = 0; ox < Wout; ox++) {
          const o = ((n * g.Cout + co) * Hout + oy) * Wout + ox;
          for (let ci = 0; ci < cinG; ci++) {
            for (let ky = 0; ky < g.k; ky++) {
              const y = oy * g.stride - g.pad + ky * g.dil;
              if (y < 0 || y >= g.H) continue;
              for (let kx = 0; kx < g.k; kx++) {
                const x = ox * g.stride - g.pad + kx * g.dil;
                if (x < 0 || x >= g.W) continue;
                fn(o, ((n * g.Cin + grp * cinG + ci) * g.H + y) * g.W + x, ((co * cinG + ci) * g.k + ky) * g.k + kx);
              }
            }
          }
        }
      }
    }
  }
}

/** out = conv(x, weight) + bias */
export function conv2dRef(x: ArrayLike<number>, weight: ArrayLike<number>, g: ConvGeom, bias?: ArrayLike<number>): Float64Array {
  const { Hout, Wout } = convOut(g);
  const out = new Float64Array(g.N * g.Cout * Hout * Wout);
  eachTap(g, (o, i, w) => { out[o] += x[i] * weight[w]; });
  if (bias) for (let o = 0; o < out.length; o++) out[o] += bias[Math.floor(o / (Hout * Wout)) % g.Cout];
  return out;
}

/** dinp: each output's gradient scattered back through the taps that produced it */
export function conv2dBackwardInputRef(dout: ArrayLike<number>, weight: ArrayLike<number>, g: ConvGeom): Float64Array {
  const dinp = new Float64Array(g.N * g.Cin * g.H * g.W);
  eachTap(g, (o, i, w) => { dinp[i] += dout[o] * weight[w]; });
  return dinp;
}

/** dweight = Σ dout · input over every (output, tap) pair */
export function conv2dBackwardWeightRef(dout: ArrayLike<number>, x: ArrayLike<number>, g: ConvGeom): Float64Array {
  const dweight = new Float64Array(g.Cout * (g.Cin / g.groups) * g.k * g.k);
  eachTap(g, (o, i, w) => { dweight[w] += dout[o] * x[i]; });
  return dweight;
}

/** dbias[c] = Σ_{n,y,x} dout[n,c,y,x] */
export function conv2dBackwardBiasRef(dout: ArrayLike<number>, N: number, C: number, HW: number): Float64Array {
  const db = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let j = 0; j < HW; j++) db[c] += dout[(n * C + c) * HW + j];
  return db;
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench references by registered op name (inputs x, weight, dout; params as the conv2d record). */
export const CONV2D_REFERENCES: Record<string, Reference> = {
  conv2d: ({ x, weight, dout }, p, pass) => {
    const g: ConvGeom = { N: p.N, Cin: p.Cin, H: p.H, W: p.W, Cout: p.Cout, k: p.k, stride: p.stride, pad: p.pad, dil: p.dilation, groups: p.groups };
    if (pass === 'forward') return [conv2dRef(x, weight, g)];
    if (pass === 'backward_input') return [conv2dBackwardInputRef(dout, weight, g)];
    return [conv2dBackwardWeightRef(dout, x, g)];
  },
};
