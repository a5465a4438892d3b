/**
 * Matrix multiply and linear layers (shaders/matmul.wgsl, matmul-vec4.wgsl, matmul-8x8.wgsl). One GEMM
 * kernel family with transpose flags serves the forward and both backward products, so backward makes
 * no transpose copies; it is batched with per-batch strides so conv2d's 1×1 path can use it too.
 *
 * Variants, chosen by shape class (see chooseGemmVariant):
 *  - naive:       one output per invocation (tiny outputs, where 4×4 tiles would leave lanes idle);
 *  - tiled:       4×4 outputs per invocation, scalar loads, any shape and transposes;
 *  - tiled_vec4:  4×4 outputs per invocation with vec4 loads/stores, for aligned shapes (not transA+transB);
 *                 ~2× the tiled variant on lavapipe, where loads cost per element and lane, not FMAs;
 *  - tiled8_vec4: 8×8 outputs per invocation, vec4, no transB: large aligned products (~15% faster).
 * A call runs its `variant` option (checked), else this adapter's tuning cache's variant for the call
 * (`wgnas tune`, src/ops/autotune.ts) when legal for it, else chooseGemmVariant.
 */
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { grid } from '../gpu/gpu-device.js';
import { needsGrad, record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues } from './registry.js';
import { tunedVariant } from './tuning.js';

const SHADER = 'matmul.wgsl';
const WG = 256;

export type GemmVariant = 'naive' | 'tiled' | 'tiled_vec4' | 'tiled8_vec4';
export const GEMM_VARIANTS: readonly GemmVariant[] = ['naive', 'tiled', 'tiled_vec4', 'tiled8_vec4'];

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
  /** force a variant (tests, benchmarks); default: chooseGemmVariant */
  variant?: GemmVariant;
  /** workgroup size override [x, y] (default [16, 4]) */
  wg?: readonly [number, number];
}

/** One batched GEMM: out[z] = op(a[z]) · op(b[z]) for z < batch, at element strides (0 broadcasts). */
export interface GemmArgs extends GemmOptions {
  a: Tensor;
  b: Tensor;
  out: Tensor;
  M: number;
  N: number;
  K: number;
  batch?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/** True if a vec4 variant's alignment needs hold (vec4-read dims, N and every stride multiples of 4). */
export function gemmVec4Ok(M: number, N: number, K: number, transA: boolean, transB: boolean, strides: readonly number[] = [], variant: GemmVariant = 'tiled_vec4'): boolean {
  if (transA && transB) return false;
  if (variant === 'tiled8_vec4' && transB) return false;
  if (N % 4 !== 0 || strides.some((s) => s % 4 !== 0)) return false;
  if (transA) return M % 4 === 0;
  return K % 4 === 0;
}

/** Why variant `v` cannot run this GEMM, or null when it can (naive and tiled run everything). */
export function gemmVariantIllegal(v: string, M: number, N: number, K: number, transA: boolean, transB: boolean, strides: readonly number[] = []): string | null {
  if (!(GEMM_VARIANTS as readonly string[]).includes(v)) return `unknown variant "${v}" (variants: ${GEMM_VARIANTS.join(', ')})`;
  if (v.endsWith('vec4') && !gemmVec4Ok(M, N, K, transA, transB, strides, v as GemmVariant)) {
    return `variant ${v} does not accept M=${M} N=${N} K=${K} transA=${transA} transB=${transB} strides ${strides.join(',')}`;
  }
  return null;
}

/** The variant for a shape class: vec4 when aligned, tiled otherwise, naive when tiles would be too few. */
export function chooseGemmVariant(M: number, N: number, K: number, transA: boolean, transB: boolean, batch = 1, strides: readonly number[] = []): GemmVariant {
  const tiles = Math.ceil(M / 4) * Math.ceil(N / 4) * batch;
  if (tiles < 64 && M * N * batch >= 2 * tiles && K >= 16) return 'naive';
  if (!gemmVec4Ok(M, N, K, transA, transB, strides)) return 'tiled';
  // 8×8 tiles when they leave enough invocations (>= 1024) and waste little on edges
  const big = Math.ceil(M / 8) * Math.ceil(N / 8) * batch >= 1024 && M % 8 === 0 && N % 8 === 0;
  return big && !transB ? 'tiled8_vec4' : 'tiled_vec4';
}

/** Encodes one (batched) GEMM into args.out (overwrites). */
export function gemm(args: GemmArgs): Tensor {
  const { a, b, out, M, N, K, batch = 1, strideA = 0, strideB = 0, strideC = M * N } = args;
  const transA = Boolean(args.transA);
  const transB = Boolean(args.transB);
  const dev = out.dev;
  const strides = [strideA, strideB, strideC] as const;
  let variant: GemmVariant;
  if (args.variant) {
    const why = gemmVariantIllegal(args.variant, M, N, K, transA, transB, strides);
    if (why) throw new ShapeError(`matmul: ${why}`);
    variant = args.variant;
  } else {
    const legal = (v: string): v is GemmVariant => gemmVariantIllegal(v, M, N, K, transA, transB, strides) === null;
    variant = tunedVariant(dev, () => ({ op: 'gemm', M, N, K, transA, transB, batch, strides }), legal) ?? chooseGemmVariant(M, N, K, transA, transB, batch, strides);
  }
  const [wx, wy] = args.wg ?? [16, 4];
  const per = variant === 'naive' ? 1 : variant === 'tiled8_vec4' ? 8 : 4;
  const vec = variant.endsWith('vec4');
  dev.dispatch({
    shader: variant === 'tiled8_vec4' ? 'matmul-8x8.wgsl' : vec ? 'matmul-vec4.wgsl' : SHADER,
    entry: variant,
    bind: vec ? { a4: a.binding, b4: b.binding, out4: out.binding } : { a: a.binding, b: b.binding, out: out.binding },
    params: { M, N, K, transA: Number(transA), transB: Number(transB), strideA, strideB, strideC },
    overrides: { WGX: wx, WGY: wy },
    workgroups: [Math.ceil(Math.ceil(N / per) / wx), Math.ceil(Math.ceil(M / per) / wy), batch],
    shape: `${batch > 1 ? `${batch}x` : ''}[${M},${K}]${transA ? 'ᵀ' : ''}x[${K},${N}]${transB ? 'ᵀ' : ''}`,
  });
  return out;
}

function dims2(op: string, t: Tensor, what: string): [number, number] {
  if (t.shape.length !== 2) throw new ShapeError(`${op}: ${what} must be 2-D, got ${shapeStr(t.shape)}`);
  return [t.shape[0], t.shape[1]];
}

/** op(a) · op(b) as a new [M,N] tensor, no autograd (a is [M,K] or, with transA, [K,M]; b likewise). */
export function matmulRaw(a: Tensor, b: Tensor, opts: GemmOptions = {}): Tensor {
  const [ar, ac] = dims2('matmul', a, 'a');
  const [br, bc] = dims2('matmul', b, 'b');
  const [M, K] = opts.transA ? [ac, ar] : [ar, ac];
  const [K2, N] = opts.transB ? [bc, br] : [br, bc];
  if (K !== K2) {
    throw new ShapeError(`matmul: inner dimensions differ: a ${shapeStr(a.shape)}${opts.transA ? 'ᵀ' : ''} · b ${shapeStr(b.shape)}${opts.transB ? 'ᵀ' : ''}`);
  }
  const out = a.dev.empty([M, N]);
  if (M * N === 0) return out;
  if (K === 0) {
    a.dev.fillBuffer(out, 0);
    return out;
  }
  return gemm({ ...opts, a, b, out, M, N, K });
}

/** a [M,K] · b [K,N] → [M,N]; backward: da = dout·bᵀ, db = aᵀ·dout. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const out = matmulRaw(a, b);
  return record(out, 'matmul', [a, b], [a, b], (dout) => [
    needsGrad(a.dev, a) ? matmulRaw(dout, b, { transB: true }) : null,
    needsGrad(b.dev, b) ? matmulRaw(a, dout, { transA: true }) : null,
  ]);
}

/** out[i] += bias[(i / inner) % C] for out of `out.size` elements (accumulates). */
export function addBiasInPlace(out: Tensor, bias: Tensor, C: number, inner: number): Tensor {
  out.dev.dispatch({
    shader: SHADER, entry: 'add_bias', bind: { bias: bias.binding, dst: out.binding },
    params: { n: out.size, C, inner }, workgroups: grid(out.size, WG), shape: `${shapeStr(out.shape)}+[${C}]`,
  });
  return out;
}

/** dbias[c] = Σ dout over every element whose channel (i / inner) % C is c (overwrites a new [C]). */
export function biasBackward(dout: Tensor, C: number, inner: number): Tensor {
  const dbias = dout.dev.empty([C]);
  dout.dev.dispatch({
    shader: SHADER, entry: 'bias_backward', bind: { dout: dout.binding, dbias: dbias.binding },
    params: { n: dout.size, C, inner }, workgroups: [Math.ceil(C / 64)], shape: `${shapeStr(dout.shape)}→[${C}]`,
  });
  return dbias;
}

/** x [N,in] · weightᵀ (weight [out,in], PyTorch layout) + bias [out] → [N,out]; backward for all three. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const [n, fin] = dims2('linear', x, 'x');
  const [fout, win] = dims2('linear', weight, 'weight');
  if (fin !== win) throw new ShapeError(`linear: x ${shapeStr(x.shape)} has ${fin} features, weight ${shapeStr(weight.shape)} expects ${win}`);
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== fout)) throw new ShapeError(`linear: bias ${shapeStr(bias.shape)} must be [${fout}] for weight ${shapeStr(weight.shape)}`);
  const dev = x.dev;
  const out = matmulRaw(x, weight, { transB: true });
  if (bias && n > 0) addBiasInPlace(out, bias, fout, 1);
  return record(out, 'linear', [x, weight, bias ?? null], [x, weight], (dout) => [
    needsGrad(dev, x) ? matmulRaw(dout, weight) : null,
    needsGrad(dev, weight) ? matmulRaw(dout, x, { transA: true }) : null,
    bias && needsGrad(dev, bias) ? biasBackward(dout, fout, 1) : null,
  ]);
}

function setupMatmul(dev: Device, p: Record<string, number>, seed: number) {
  const a = dev.tensor(seededValues(p.M * p.K, seed), [p.M, p.K]);
  const b = dev.tensor(seededValues(p.K * p.N, seed + 1), [p.K, p.N]);
  const dout = dev.tensor(seededValues(p.M * p.N, seed + 2), [p.M, p.N]);
  return {
    inputs: { a, b, dout },
    run: {
      forward: () => matmulRaw(a, b),
      backward_a: () => matmulRaw(dout, b, { transB: true }),
      backward_b: () => matmulRaw(a, dout, { transA: true }),
    },
  };
}

register({
  name: 'matmul',
  shader: SHADER,
  passes: ['forward', 'backward_a', 'backward_b'],
  describe: (p) => `[${p.M},${p.K}]x[${p.K},${p.N}]`,
  setup: setupMatmul,
  flops: (p) => 2 * p.M * p.N * p.K,
  // every pass reads two of (a, b, out) and writes the third
  bytes: (p) => 4 * (p.M * p.K + p.K * p.N + p.M * p.N),
  sweep: [{ M: 64, K: 64, N: 64 }, { M: 256, K: 256, N: 256 }, { M: 128, K: 1152, N: 10 }, { M: 512, K: 512, N: 512 }],
});
