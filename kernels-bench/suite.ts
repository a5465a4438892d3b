/**
 * The reference suite (fp32, NCHW semantics) and TF.js WebGPU backend (@tensorflow/tfjs-backend-webgpu
 * 4.22) medians measured on the 2-core lavapipe machine this project is developed on (from the issue;
 * they are a baseline for that machine only: on another adapter compare against TF.js run there).
 */
import type { OpParams } from '../src/ops/registry.js';

export interface SuiteEntry {
  id: string;
  op: string;
  pass: string;
  params: OpParams;
  tfjsMs?: number;
}

const conv = (k: number, pad: number, extra: Partial<OpParams> = {}): OpParams => ({ N: 32, Cin: 16, Cout: 16, H: 28, W: 28, k, stride: 1, pad, dilation: 1, groups: 1, ...extra } as OpParams);
const pool = { N: 32, C: 16, H: 28, W: 28, k: 3, stride: 1, pad: 1 };

export const REFERENCE_SUITE: SuiteEntry[] = [
  { id: 'matmul_256', op: 'matmul', pass: 'forward', params: { M: 256, K: 256, N: 256 } },
  { id: 'matmul_512', op: 'matmul', pass: 'forward', params: { M: 512, K: 512, N: 512 }, tfjsMs: 80 },
  { id: 'matmul_1024', op: 'matmul', pass: 'forward', params: { M: 1024, K: 1024, N: 1024 }, tfjsMs: 580 },
  { id: 'conv3x3', op: 'conv2d', pass: 'forward', params: conv(3, 1), tfjsMs: 85 },
  { id: 'conv5x5', op: 'conv2d', pass: 'forward', params: conv(5, 2), tfjsMs: 201 },
  { id: 'conv1x1', op: 'conv2d', pass: 'forward', params: conv(1, 0, { Cin: 32, Cout: 64 }), tfjsMs: 37 },
  { id: 'dwconv3x3', op: 'conv2d', pass: 'forward', params: conv(3, 1, { Cin: 32, Cout: 32, groups: 32 }), tfjsMs: 9.0 },
  { id: 'conv3x3_bwd_data', op: 'conv2d', pass: 'backward_input', params: conv(3, 1), tfjsMs: 40 },
  { id: 'conv3x3_bwd_filter', op: 'conv2d', pass: 'backward_weight', params: conv(3, 1), tfjsMs: 152 },
  { id: 'maxpool3x3', op: 'max_pool2d', pass: 'forward', params: pool, tfjsMs: 14 },
  { id: 'avgpool3x3', op: 'avg_pool2d', pass: 'forward', params: pool, tfjsMs: 14 },
];
