/**
 * 2-D convolution, NCHW, weight [Cout, Cin/groups, k, k] (PyTorch layout), square stride / padding /
 * dilation, any groups, optional bias. Forward, backward w.r.t. the input and w.r.t. the weight are
 * separate raw passes (conv2dForward, conv2dBackwardInput, conv2dBackwardWeight) that kernels-bench
 * times one at a time; conv2d() pairs them through autograd.
 *
 * Paths, chosen by shape class (chooseConv2dVariant), each one tested against the float64 reference:
 *  - gemm:      1×1, stride 1, no padding, groups 1: batched GEMM from matmul.wgsl (no im2col);
 *  - depthwise_window: groups = Cin = Cout, stride 1: conv2d-depthwise-window.wgsl (4×4 tiles, row
 *               windows; its backward w.r.t. the input is the same kernel on the rotated kernel);
 *  - depthwise: other depthwise convolutions (stride 2): conv2d-depthwise.wgsl;
 *  - window:    other convolutions of stride 1 or 2: conv2d-window.wgsl (row windows reused across taps,
 *               packed weights); the stride-1 backward w.r.t. the input is the same kernel on flipped weights;
 *  - tiled:     everything else: conv2d-tiled.wgsl / conv2d-weight.wgsl (4×4 register tiles);
 *  - naive:     one output per invocation (conv2d.wgsl), the first correct version, kept for checks.
 * Each pass resolves its own variant: an explicit `variant` option, else this adapter's tuning cache
 * (`wgnas tune`, src/ops/autotune.ts) when it names a variant legal for the shape, else the rule above.
 */
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { grid } from '../gpu/gpu-device.js';
import { needsGrad, record } from '../tensor/autograd.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { addBiasInPlace, biasBackward, gemm } from './matmul.js';
import { register, seededValues, type OpParams } from './registry.js';
import { tunedVariant, type Conv2dPass } from './tuning.js';

export type Conv2dVariant = 'naive' | 'tiled' | 'window' | 'depthwise' | 'depthwise_window' | 'gemm';
export const CONV2D_VARIANTS: readonly Conv2dVariant[] = ['naive', 'tiled', 'window', 'depthwise', 'depthwise_window', 'gemm'];

export interface Conv2dOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: Tensor | null;
  /** force a path (tests, benchmarks); default: chooseConv2dVariant */
  variant?: Conv2dVariant;
}

/** Everything a conv kernel needs to know; every member is a uniform of the conv shaders. */
export interface Conv2dGeometry {
  N: number; Cin: number; H: number; W: number;
  Cout: number; Hout: number; Wout: number; k: number;
  stride: number; pad: number; dil: number; groups: number;
  cinG: number; coutG: number;
}

const WG = 64;
/** invocations the chunked weight-gradient reductions aim for (enough to fill lavapipe's threads) */
const REDUCE_LANES = 1024;

/** Validates shapes and parameters and derives the output size; errors name the shapes. */
export function conv2dGeometry(x: readonly number[], w: readonly number[], o: Conv2dOptions = {}): Conv2dGeometry {
  const stride = o.stride ?? 1;
  const pad = o.padding ?? 0;
  const dil = o.dilation ?? 1;
  const groups = o.groups ?? 1;
  const what = `conv2d: input ${shapeStr(x)}, weight ${shapeStr(w)}, stride ${stride} padding ${pad} dilation ${dil} groups ${groups}`;
  if (x.length !== 4 || w.length !== 4) throw new ShapeError(`${what}: input must be [N,C,H,W] and weight [Cout,Cin/groups,k,k]`);
  const [N, Cin, H, W] = x;
  const [Cout, cinG, kh, kw] = w;
  if (kh !== kw) throw new ShapeError(`${what}: only square kernels are supported`);
  for (const [name, v, min] of [['stride', stride, 1], ['dilation', dil, 1], ['groups', groups, 1], ['padding', pad, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ShapeError(`${what}: ${name} must be an integer >= ${min}`);
  }
  if (Cin % groups !== 0 || Cout % groups !== 0) throw new ShapeError(`${what}: channels ${Cin}→${Cout} are not divisible by groups ${groups}`);
  if (cinG !== Cin / groups) throw new ShapeError(`${what}: weight has ${cinG} input channels per group, expected ${Cin / groups}`);
  const k = kh;
  const Hout = Math.floor((H + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
  const Wout = Math.floor((W + 2 * pad - dil * (k - 1) - 1) / stride) + 1;
  if (Hout < 1 || Wout < 1) throw new ShapeError(`${what}: output would be empty (${Hout}×${Wout})`);
  if (o.bias && (o.bias.shape.length !== 1 || o.bias.shape[0] !== Cout)) throw new ShapeError(`${what}: bias ${shapeStr(o.bias.shape)} must be [${Cout}]`);
  return { N, Cin, H, W, Cout, Hout, Wout, k, stride, pad, dil, groups, cinG, coutG: Cout / groups };
}

/** The path for a shape class (see the module comment). */
export function chooseConv2dVariant(g: Conv2dGeometry): Conv2dVariant {
  if (gemmFits(g)) return 'gemm';
  if (isDepthwise(g) && g.groups > 1) return windowFits(g, 1) ? 'depthwise_window' : 'depthwise';
  if (windowFits(g, 2)) return 'window';
  return 'tiled';
}

/** The gemm path's class: a 1×1 kernel, stride 1, no padding, groups 1 (then conv = batched GEMM). */
function gemmFits(g: Conv2dGeometry): boolean {
  return g.k === 1 && g.stride === 1 && g.pad === 0 && g.groups === 1;
}

function isDepthwise(g: Conv2dGeometry): boolean {
  return g.groups === g.Cin && g.groups === g.Cout;
}

/** Why variant `v` cannot run this geometry, or null when it can (every pass accepts the same set). */
export function conv2dVariantIllegal(g: Conv2dGeometry, v: string): string | null {
  if (!(CONV2D_VARIANTS as readonly string[]).includes(v)) return `unknown variant "${v}" (variants: ${CONV2D_VARIANTS.join(', ')})`;
  if (v === 'gemm' && !gemmFits(g)) return 'the gemm path needs a 1×1 kernel, stride 1, padding 0, groups 1';
  if (v.startsWith('depthwise') && !isDepthwise(g)) return 'the depthwise path needs groups = Cin = Cout';
  if (v.endsWith('window') && !windowFits(g, v === 'window' ? 2 : 1)) {
    return `the ${v} path needs stride <= ${v === 'window' ? 2 : 1}, k <= 7 and a row window of at most 24 columns`;
  }
  return null;
}

/**
 * The window kernels' size class: stride <= maxStride (depthwise: 1, dense: 2), k <= 7, and a row window
 * for 4 output columns that fits the depthwise kernels' 24-float register buffer.
 */
export function windowFits(g: Conv2dGeometry, maxStride: number): boolean {
  return g.stride <= maxStride && g.k <= 7 && windowSpan(g, 1) <= 24;
}

/** Floats of register buffer a row window for 4·txq output columns needs. */
function windowSpan(g: Conv2dGeometry, txq: number): number {
  return 4 * Math.ceil(g.pad / 4) - g.pad + (4 * txq - 1) * g.stride + (g.k - 1) * g.dil + 1;
}

/** Geometry of the stride-1 backward w.r.t. the input seen as a forward conv of dout (flipped weights). */
function transposedGeometry(g: Conv2dGeometry): Conv2dGeometry | null {
  const pad = g.dil * (g.k - 1) - g.pad;
  if (g.stride !== 1 || pad < 0) return null;
  const t = { ...g, Cin: g.Cout, H: g.Hout, W: g.Wout, Cout: g.Cin, Hout: g.H, Wout: g.W, pad, cinG: g.coutG, coutG: g.cinG };
  return windowFits(t, 1) ? t : null;
}

/** The weights repacked for conv2d-window.wgsl: [g, ci, ky, kx, co padded to 4] (flip: transposed and rotated). */
function packWeight(weight: Tensor, g: Conv2dGeometry, flip: boolean): Tensor {
  const coPad = Math.ceil(g.coutG / 4) * 4;
  const wpk = weight.dev.empty([g.groups * g.cinG * g.k * g.k * coPad]);
  weight.dev.dispatch({
    shader: 'conv2d-window.wgsl', entry: 'pack_weight', bind: { weight: weight.binding, wpkOut: wpk.binding },
    params: { coutG: g.coutG, cinG: g.cinG, groups: g.groups, k: g.k, flip: Number(flip) }, workgroups: grid(wpk.size, WG), shape: describeConv(g),
  });
  return wpk;
}

/** Stride-1 depthwise conv of `input` into `out` (the geometry's output shape); flip rotates the kernel. */
function depthwiseWindowConv(input: Tensor, weight: Tensor, g: Conv2dGeometry, flip: boolean, out: Tensor): void {
  const TY = g.Hout > 4 ? 8 : 4;
  const vecOut = g.Wout % 4 === 0;
  const n = g.N * g.Cout * Math.ceil(g.Hout / TY) * Math.ceil(g.Wout / 4);
  input.dev.dispatch({
    shader: 'conv2d-depthwise-window.wgsl', entry: vecOut ? 'forward_vec4' : 'forward',
    bind: { inp4: input.binding, inp: input.binding, weight: weight.binding, [vecOut ? 'out4' : 'out']: out.binding },
    params: params(g), overrides: { K: g.k, DIL: g.dil, PAD: g.pad, VEC: Number(g.W % 4 === 0), FLIP: Number(flip), TY },
    workgroups: grid(n, WG), shape: describeConv(g),
  });
}

/** Conv (stride 1 or 2) of `input` by packed weights into `out` (the geometry's output shape). */
function windowConv(input: Tensor, weight: Tensor, g: Conv2dGeometry, flip: boolean, out: Tensor): void {
  const dev = input.dev;
  const wpk = packWeight(weight, g, flip);
  // 8 output columns per invocation when the row is wide enough and the window fits the 32-float buffer
  const txq = g.Wout > 4 && windowSpan(g, 2) <= 32 ? 2 : 1;
  dev.dispatch({
    shader: 'conv2d-window.wgsl', entry: 'forward', bind: { inp4: input.binding, inp: input.binding, wpk: wpk.binding, out: out.binding },
    params: params(g), overrides: { K: g.k, DIL: g.dil, PAD: g.pad, STRIDE: g.stride, VEC: Number(g.W % 4 === 0), TXQ: txq },
    workgroups: tiledGrid(g.N * g.Hout * Math.ceil(g.Wout / (4 * txq)), g.groups * Math.ceil(g.coutG / 4)), shape: describeConv(g),
  });
  wpk.dispose();
}

/** The variant a pass runs: the `variant` option (checked), else the tuning cache's if legal, else the shape-class rule. */
function variantOf(dev: Device, pass: Conv2dPass, g: Conv2dGeometry, o: Conv2dOptions): Conv2dVariant {
  if (o.variant) {
    const why = conv2dVariantIllegal(g, o.variant);
    if (why) throw new ShapeError(`conv2d: ${why} (got ${describeConv(g)})`);
    return o.variant;
  }
  const legal = (v: string): v is Conv2dVariant => conv2dVariantIllegal(g, v) === null;
  return tunedVariant(dev, () => ({ op: 'conv2d', pass, g }), legal) ?? chooseConv2dVariant(g);
}

export function describeConv(g: Conv2dGeometry): string {
  return `[${g.N},${g.Cin},${g.H},${g.W}]→${g.Cout} k${g.k} s${g.stride} p${g.pad}${g.dil > 1 ? ` d${g.dil}` : ''}${g.groups > 1 ? ` g${g.groups}` : ''}`;
}

function params(g: Conv2dGeometry, chunks = 1, rowsPerChunk = 1): Record<string, number> {
  return { ...g, chunks, rowsPerChunk };
}

/** backward_input kernels skip the stride divisibility checks (lane-by-lane integer divisions) at stride 1 */
function unitStride(g: Conv2dGeometry): Record<string, number> {
  return { UNIT_STRIDE: g.stride === 1 ? 1 : 0 };
}

function tiledGrid(spatialTiles: number, channelTiles: number): [number, number] {
  const x = Math.ceil(spatialTiles / WG);
  if (x > 65535) throw new ShapeError(`conv2d: ${spatialTiles} spatial tiles exceed one dispatch (batch too large for the tiled path)`);
  return [x, channelTiles];
}

/** Chunking of the N·Hout output rows for the weight-gradient reductions. */
function chunking(g: Conv2dGeometry, owners: number): { chunks: number; rowsPerChunk: number } {
  const rows = g.N * g.Hout;
  const want = Math.max(1, Math.min(rows, Math.ceil(REDUCE_LANES / owners)));
  const rowsPerChunk = Math.ceil(rows / want);
  return { chunks: Math.ceil(rows / rowsPerChunk), rowsPerChunk };
}

/** Raw forward pass: conv(x, weight) (+ bias) as a new [N,Cout,Hout,Wout] tensor, no autograd. */
export function conv2dForward(x: Tensor, weight: Tensor, o: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(x.shape, weight.shape, o);
  const dev = x.dev;
  const out = dev.empty([g.N, g.Cout, g.Hout, g.Wout]);
  const shape = describeConv(g);
  const v = variantOf(dev, 'forward', g, o);
  const hw = g.H * g.W;
  if (v === 'gemm') {
    gemm({ a: weight, b: x, out, M: g.Cout, K: g.Cin, N: hw, batch: g.N, strideA: 0, strideB: g.Cin * hw, strideC: g.Cout * hw });
  } else if (v === 'naive') {
    dev.dispatch({ shader: 'conv2d.wgsl', entry: 'forward_naive', bind: { inp: x.binding, weight: weight.binding, out: out.binding }, params: params(g), workgroups: grid(out.size, WG), shape });
  } else if (v === 'window') {
    windowConv(x, weight, g, false, out);
  } else if (v === 'depthwise_window') {
    depthwiseWindowConv(x, weight, g, false, out);
  } else if (v === 'depthwise') {
    const n = g.N * g.Cout * g.Hout * Math.ceil(g.Wout / 4);
    dev.dispatch({ shader: 'conv2d-depthwise.wgsl', entry: 'forward', bind: { inp: x.binding, weight: weight.binding, out: out.binding }, params: params(g), workgroups: grid(n, WG), shape });
  } else {
    const tiles = g.N * g.Hout * Math.ceil(g.Wout / 4);
    dev.dispatch({ shader: 'conv2d-tiled.wgsl', entry: 'forward', bind: { inp: x.binding, weight: weight.binding, out: out.binding }, params: params(g), workgroups: tiledGrid(tiles, g.groups * Math.ceil(g.coutG / 4)), shape });
  }
  if (o.bias) addBiasInPlace(out, o.bias, g.Cout, g.Hout * g.Wout);
  return out;
}

/** Raw backward pass w.r.t. the input: dinp [N,Cin,H,W] from dout and weight (overwrites a new tensor). */
export function conv2dBackwardInput(dout: Tensor, weight: Tensor, inputShape: readonly number[], o: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(inputShape, weight.shape, o);
  checkDout(g, dout);
  const dev = dout.dev;
  const dinp = dev.empty([g.N, g.Cin, g.H, g.W]);
  const shape = describeConv(g);
  const v = variantOf(dev, 'backward_input', g, o);
  const hw = g.H * g.W;
  if (v === 'gemm') {
    gemm({ a: weight, b: dout, out: dinp, M: g.Cin, K: g.Cout, N: hw, transA: true, batch: g.N, strideA: 0, strideB: g.Cout * hw, strideC: g.Cin * hw });
  } else if (v === 'naive') {
    dev.dispatch({ shader: 'conv2d.wgsl', entry: 'backward_input_naive', bind: { dout: dout.binding, weight: weight.binding, dinp: dinp.binding }, params: params(g), workgroups: grid(dinp.size, WG), shape });
  } else if (v === 'window' && transposedGeometry(g)) {
    windowConv(dout, weight, transposedGeometry(g)!, true, dinp);
  } else if (v === 'depthwise_window' && transposedGeometry(g)) {
    depthwiseWindowConv(dout, weight, transposedGeometry(g)!, true, dinp);
  } else if (v.startsWith('depthwise')) {
    const n = g.N * g.Cin * g.H * Math.ceil(g.W / 4);
    dev.dispatch({ shader: 'conv2d-depthwise.wgsl', entry: 'backward_input', bind: { dout: dout.binding, weight: weight.binding, dinp: dinp.binding }, params: params(g), overrides: unitStride(g), workgroups: grid(n, WG), shape });
  } else {
    const tiles = g.N * g.H * Math.ceil(g.W / 4);
    dev.dispatch({ shader: 'conv2d-tiled.wgsl', entry: 'backward_input', bind: { dout: dout.binding, weight: weight.binding, dinp: dinp.binding }, params: params(g), overrides: unitStride(g), workgroups: tiledGrid(tiles, g.groups * Math.ceil(g.cinG / 4)), shape });
  }
  return dinp;
}

/** Raw backward pass w.r.t. the weight: dweight [Cout,Cin/groups,k,k] from dout and the input (overwrites a new tensor). */
export function conv2dBackwardWeight(dout: Tensor, x: Tensor, weightShape: readonly number[], o: Conv2dOptions = {}): Tensor {
  const g = conv2dGeometry(x.shape, weightShape, o);
  checkDout(g, dout);
  const dev = dout.dev;
  const shape = describeConv(g);
  const v = variantOf(dev, 'backward_weight', g, o);
  const size = g.Cout * g.cinG * g.k * g.k;
  if (v === 'naive') {
    const dweight = dev.empty(weightShape);
    dev.dispatch({ shader: 'conv2d.wgsl', entry: 'backward_weight_naive', bind: { dout: dout.binding, inp: x.binding, dweight: dweight.binding }, params: params(g), workgroups: grid(size, WG), shape });
    return dweight;
  }
  let chunks: number;
  let partial: Tensor;
  if (v === 'gemm') {
    // one [Cout,Cin] product per image: dout[n] · x[n]ᵀ, then the images are summed
    const hw = g.H * g.W;
    chunks = g.N;
    partial = dev.empty(chunks === 1 ? weightShape : [chunks, ...weightShape]);
    gemm({ a: dout, b: x, out: partial, M: g.Cout, K: hw, N: g.Cin, transB: true, batch: g.N, strideA: g.Cout * hw, strideB: g.Cin * hw, strideC: size });
  } else if (v === 'depthwise_window') {
    const owners = g.Cout * g.k;
    const c = chunking(g, owners);
    chunks = c.chunks;
    partial = dev.empty(chunks === 1 ? weightShape : [chunks, ...weightShape]);
    dev.dispatch({
      shader: 'conv2d-depthwise-weight.wgsl', entry: 'backward_weight',
      bind: { dout4: dout.binding, dout: dout.binding, inp4: x.binding, inp: x.binding, partial: partial.binding },
      params: params(g, c.chunks, c.rowsPerChunk), overrides: { K: g.k, DIL: g.dil, PAD: g.pad, VEC: Number(g.W % 4 === 0), VEC_OUT: Number(g.Wout % 4 === 0) },
      workgroups: [Math.ceil(owners / WG), c.chunks], shape,
    });
  } else {
    const depthwise = v.startsWith('depthwise');
    const owners = depthwise ? g.Cout * g.k * g.k : g.groups * Math.ceil(g.coutG / 4) * Math.ceil(g.cinG / 4) * g.k * g.k;
    const c = chunking(g, owners);
    chunks = c.chunks;
    partial = dev.empty(chunks === 1 ? weightShape : [chunks, ...weightShape]);
    dev.dispatch({
      shader: depthwise ? 'conv2d-depthwise.wgsl' : 'conv2d-weight.wgsl', entry: 'backward_weight',
      bind: { dout: dout.binding, inp: x.binding, partial: partial.binding },
      params: params(g, c.chunks, c.rowsPerChunk), workgroups: [Math.ceil(owners / WG), c.chunks], shape,
    });
  }
  if (chunks === 1) return partial;
  const dweight = dev.empty(weightShape);
  dev.dispatch({ shader: 'conv2d-weight.wgsl', entry: 'sum_chunks', bind: { partials: partial.binding, dweight: dweight.binding }, params: params(g, chunks), workgroups: grid(size, WG), shape });
  partial.dispose();
  return dweight;
}

/** Raw backward pass w.r.t. the bias: dbias [Cout] = Σ_{n,y,x} dout (overwrites a new tensor). */
export function conv2dBackwardBias(dout: Tensor): Tensor {
  if (dout.shape.length !== 4) throw new ShapeError(`conv2d: dout ${shapeStr(dout.shape)} must be [N,Cout,Hout,Wout]`);
  return biasBackward(dout, dout.shape[1], dout.shape[2] * dout.shape[3]);
}

function checkDout(g: Conv2dGeometry, dout: Tensor): void {
  const want = [g.N, g.Cout, g.Hout, g.Wout];
  if (dout.shape.length !== 4 || dout.shape.some((d, i) => d !== want[i])) {
    throw new ShapeError(`conv2d backward: dout ${shapeStr(dout.shape)} must be ${shapeStr(want)} for ${describeConv(g)}`);
  }
}

/** 2-D convolution with autograd: gradients for the input, the weight and the bias. */
export function conv2d(x: Tensor, weight: Tensor, o: Conv2dOptions = {}): Tensor {
  const out = conv2dForward(x, weight, o);
  const dev = x.dev;
  const bias = o.bias ?? null;
  return record(out, 'conv2d', [x, weight, bias], [x, weight], (dout) => [
    needsGrad(dev, x) ? conv2dBackwardInput(dout, weight, x.shape, o) : null,
    needsGrad(dev, weight) ? conv2dBackwardWeight(dout, x, weight.shape, o) : null,
    bias && needsGrad(dev, bias) ? conv2dBackwardBias(dout) : null,
  ]);
}

function geometryOf(p: OpParams): Conv2dGeometry {
  return conv2dGeometry([p.N, p.Cin, p.H, p.W], [p.Cout, p.Cin / p.groups, p.k, p.k], { stride: p.stride, padding: p.pad, dilation: p.dilation, groups: p.groups });
}

register({
  name: 'conv2d',
  shader: 'conv2d.wgsl',
  passes: ['forward', 'backward_input', 'backward_weight'],
  describe: (p) => `N${p.N} C${p.Cin}→${p.Cout} ${p.H}×${p.W} k${p.k} s${p.stride} p${p.pad}${p.dilation > 1 ? ` d${p.dilation}` : ''}${p.groups > 1 ? ` g${p.groups}` : ''}`,
  setup: (dev, p, seed) => {
    const g = geometryOf(p);
    const o = { stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups };
    const x = dev.tensor(seededValues(g.N * g.Cin * g.H * g.W, seed), [g.N, g.Cin, g.H, g.W]);
    const weight = dev.tensor(seededValues(g.Cout * g.cinG * g.k * g.k, seed + 1), [g.Cout, g.cinG, g.k, g.k]);
    const dout = dev.tensor(seededValues(g.N * g.Cout * g.Hout * g.Wout, seed + 2), [g.N, g.Cout, g.Hout, g.Wout]);
    return {
      inputs: { x, weight, dout },
      run: {
        forward: () => conv2dForward(x, weight, o),
        backward_input: () => conv2dBackwardInput(dout, weight, x.shape, o),
        backward_weight: () => conv2dBackwardWeight(dout, x, weight.shape, o),
      },
    };
  },
  flops: (p) => {
    const g = geometryOf(p);
    return 2 * g.N * g.Cout * g.Hout * g.Wout * g.cinG * g.k * g.k;
  },
  // every pass reads two of (input, weight, output) and writes the third
  bytes: (p) => {
    const g = geometryOf(p);
    return 4 * (g.N * g.Cin * g.H * g.W + g.Cout * g.cinG * g.k * g.k + g.N * g.Cout * g.Hout * g.Wout);
  },
  sweep: [
    { N: 8, Cin: 16, Cout: 16, H: 28, W: 28, k: 3, stride: 1, pad: 1, dilation: 1, groups: 1 },
    { N: 8, Cin: 16, Cout: 32, H: 28, W: 28, k: 3, stride: 2, pad: 1, dilation: 1, groups: 1 },
    { N: 8, Cin: 32, Cout: 32, H: 14, W: 14, k: 1, stride: 1, pad: 0, dilation: 1, groups: 1 },
    { N: 8, Cin: 32, Cout: 32, H: 14, W: 14, k: 3, stride: 1, pad: 2, dilation: 2, groups: 32 },
    { N: 8, Cin: 32, Cout: 32, H: 14, W: 14, k: 5, stride: 1, pad: 2, dilation: 1, groups: 32 },
  ],
});
