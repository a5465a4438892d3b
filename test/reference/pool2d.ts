/**
 * float64 references for shaders/pool2d.wgsl (NCHW). Backward references SCATTER (each window adds to
 * the inputs it read), the opposite order to the kernels' gather, so the two are independent.
 * Pure functions: no vitest import (kernels-bench uses them too).
 */
import type { OpParams } from '../../src/ops/registry.js';

export interface Geom {
  n: number; c: number; h: number; w: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
}

export function outSize(g: Geom): { oh: number; ow: number } {
  return { oh: Math.floor((g.h + 2 * g.ph - g.kh) / g.sh) + 1, ow: Math.floor((g.w + 2 * g.pw - g.kw) / g.sw) + 1 };
}

export function geom(shape: readonly number[], k: number, s: number, p: number): Geom {
  const [n, c, h, w] = shape;
  return { n, c, h, w, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p };
}

/** Calls fn(plane, oy, ox, o, real input positions of the window) for every output element. */
function eachWindow(g: Geom, fn: (plane: number, o: number, cells: number[]) => void): void {
  const { oh, ow } = outSize(g);
  for (let plane = 0; plane < g.n * g.c; plane++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++) {
        const cells: number[] = [];
        for (let ky = 0; ky < g.kh; ky++) {
          for (let kx = 0; kx < g.kw; kx++) {
            const y = oy * g.sh - g.ph + ky;
            const x = ox * g.sw - g.pw + kx;
            if (y >= 0 && y < g.h && x >= 0 && x < g.w) cells.push(plane * g.h * g.w + y * g.w + x);
          }
        }
        fn(plane, (plane * oh + oy) * ow + ox, cells);
      }
    }
  }
}

/** Max over each window; argmax[o] = flat input index of the first max (row-major window order). */
export function maxPool2dRef(x: ArrayLike<number>, g: Geom): { out: Float64Array; argmax: Int32Array } {
  const { oh, ow } = outSize(g);
  const out = new Float64Array(g.n * g.c * oh * ow);
  const argmax = new Int32Array(out.length);
  eachWindow(g, (_plane, o, cells) => {
    let best = cells[0];
    for (const i of cells) if (x[i] > x[best]) best = i;
    out[o] = x[best];
    argmax[o] = best;
  });
  return { out, argmax };
}

export function maxPool2dBackwardRef(dout: ArrayLike<number>, x: ArrayLike<number>, g: Geom): Float64Array {
  const { argmax } = maxPool2dRef(x, g);
  const dinp = new Float64Array(g.n * g.c * g.h * g.w);
  for (let o = 0; o < argmax.length; o++) dinp[argmax[o]] += dout[o];
  return dinp;
}

function divisor(g: Geom, cells: number[], includePad: boolean): number {
  return includePad ? g.kh * g.kw : cells.length;
}

export function avgPool2dRef(x: ArrayLike<number>, g: Geom, includePad = false): Float64Array {
  const { oh, ow } = outSize(g);
  const out = new Float64Array(g.n * g.c * oh * ow);
  eachWindow(g, (_plane, o, cells) => {
    let s = 0;
    for (const i of cells) s += x[i];
    out[o] = s / divisor(g, cells, includePad);
  });
  return out;
}

export function avgPool2dBackwardRef(dout: ArrayLike<number>, g: Geom, includePad = false): Float64Array {
  const dinp = new Float64Array(g.n * g.c * g.h * g.w);
  eachWindow(g, (_plane, o, cells) => {
    for (const i of cells) dinp[i] += dout[o] / divisor(g, cells, includePad);
  });
  return dinp;
}

/** [N, C, H, W] → [N, C] mean of each plane. */
export function globalAvgPoolRef(x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  const out = new Float64Array(n * c);
  for (let i = 0; i < n * c * h * w; i++) out[Math.floor(i / (h * w))] += x[i] / (h * w);
  return out;
}

export function globalAvgPoolBackwardRef(dout: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [n, c, h, w] = shape;
  return Float64Array.from({ length: n * c * h * w }, (_, i) => dout[Math.floor(i / (h * w))] / (h * w));
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench references by registered op name (inputs x, dout; params N, C, H, W, k, s, p). */
export const POOL2D_REFERENCES: Record<string, Reference> = {
  max_pool2d: ({ x, dout }, p, pass) => {
    const g = geom([p.N, p.C, p.H, p.W], p.k, p.stride, p.pad);
    return [pass === 'forward' ? maxPool2dRef(x, g).out : maxPool2dBackwardRef(dout, x, g)];
  },
  avg_pool2d: ({ x, dout }, p, pass) => {
    const g = geom([p.N, p.C, p.H, p.W], p.k, p.stride, p.pad);
    return [pass === 'forward' ? avgPool2dRef(x, g) : avgPool2dBackwardRef(dout, g)];
  },
  global_avg_pool: ({ x, dout }, p, pass) => {
    const shape = [p.N, p.C, p.H, p.W];
    return [pass === 'forward' ? globalAvgPoolRef(x, shape) : globalAvgPoolBackwardRef(dout, shape)];
  },
};
