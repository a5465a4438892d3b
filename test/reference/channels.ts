/**
 * float64 references for shaders/channels.wgsl (NCHW). Pure functions: no vitest import (kernels-bench
 * uses them too). Index arithmetic is written per (n, c, y, x), not per contiguous block as the kernels.
 */
import type { OpParams } from '../../src/ops/registry.js';

const at = (s: readonly number[], n: number, c: number, y: number, x: number): number => ((n * s[1] + c) * s[2] + y) * s[3] + x;

function forEach(s: readonly number[], fn: (n: number, c: number, y: number, x: number) => void): void {
  for (let n = 0; n < s[0]; n++) for (let c = 0; c < s[1]; c++) for (let y = 0; y < s[2]; y++) for (let x = 0; x < s[3]; x++) fn(n, c, y, x);
}

/** Concatenation along channels. */
export function concatRef(xs: readonly ArrayLike<number>[], shapes: readonly (readonly number[])[]): { out: Float64Array; shape: number[] } {
  const total = shapes.reduce((a, s) => a + s[1], 0);
  const shape = [shapes[0][0], total, shapes[0][2], shapes[0][3]];
  const out = new Float64Array(shape[0] * total * shape[2] * shape[3]);
  let off = 0;
  xs.forEach((x, k) => {
    forEach(shapes[k], (n, c, y, w) => (out[at(shape, n, off + c, y, w)] = x[at(shapes[k], n, c, y, w)]));
    off += shapes[k][1];
  });
  return { out, shape };
}

/** x[:, start:start+count] */
export function sliceChannelsRef(x: ArrayLike<number>, shape: readonly number[], start: number, count: number): Float64Array {
  const os = [shape[0], count, shape[2], shape[3]];
  const out = new Float64Array(os[0] * count * os[2] * os[3]);
  forEach(os, (n, c, y, w) => (out[at(os, n, c, y, w)] = x[at(shape, n, start + c, y, w)]));
  return out;
}

/** Backward of sliceChannels: dout placed at channels start.. of a zero tensor of `shape`. */
export function sliceChannelsBackwardRef(dout: ArrayLike<number>, shape: readonly number[], start: number, count: number): Float64Array {
  const os = [shape[0], count, shape[2], shape[3]];
  const dinp = new Float64Array(shape[0] * shape[1] * shape[2] * shape[3]);
  forEach(os, (n, c, y, w) => (dinp[at(shape, n, start + c, y, w)] = dout[at(os, n, c, y, w)]));
  return dinp;
}

/** x[:, :, dy:, dx:] zero-padded at the bottom/right back to H×W. */
export function shiftCropRef(x: ArrayLike<number>, shape: readonly number[], dy: number, dx: number): Float64Array {
  const out = new Float64Array(x.length);
  forEach(shape, (n, c, y, w) => {
    if (y + dy < shape[2] && w + dx < shape[3]) out[at(shape, n, c, y, w)] = x[at(shape, n, c, y + dy, w + dx)];
  });
  return out;
}

/** Backward of shiftCrop: each output element's gradient goes back to the input element it copied. */
export function shiftCropBackwardRef(dout: ArrayLike<number>, shape: readonly number[], dy: number, dx: number): Float64Array {
  const dinp = new Float64Array(dout.length);
  forEach(shape, (n, c, y, w) => {
    if (y + dy < shape[2] && w + dx < shape[3]) dinp[at(shape, n, c, y + dy, w + dx)] += dout[at(shape, n, c, y, w)];
  });
  return dinp;
}

export function addNRef(xs: readonly ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(xs[0].length);
  for (const x of xs) for (let i = 0; i < out.length; i++) out[i] += x[i];
  return out;
}

type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

/** kernels-bench references (concat: inputs x0..x{k-1}, dout, params N, C, H, W, k; add_n: x0.., params n, k). */
export const CHANNELS_REFERENCES: Record<string, Reference> = {
  concat: (inputs, p, pass) => {
    const shape = [p.N, p.C, p.H, p.W];
    if (pass === 'forward') {
      const xs = Array.from({ length: p.k }, (_, i) => inputs[`x${i}`]);
      return [concatRef(xs, xs.map(() => shape)).out];
    }
    const full = [p.N, p.k * p.C, p.H, p.W];
    return Array.from({ length: p.k }, (_, i) => sliceChannelsRef(inputs.dout, full, i * p.C, p.C));
  },
  add_n: (inputs, p) => [addNRef(Array.from({ length: p.k }, (_, i) => inputs[`x${i}`]))],
};
