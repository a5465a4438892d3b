/**
 * float64 references by registered op name, for kernels-bench's check-before-timing: given the op
 * instance's inputs (read back) and parameters, the expected outputs of one pass. Each family's map
 * lives beside its references; this file only gathers them.
 */
import type { OpParams } from '../../src/ops/registry.js';
import { BATCHNORM_REFERENCES } from './batchnorm.js';
import { CHANNELS_REFERENCES } from './channels.js';
import { CONV2D_REFERENCES } from './conv2d.js';
import { GNN_REFERENCES } from './gnn.js';
import { LOSS_REFERENCES } from './loss.js';
import { MATMUL_REFERENCES } from './matmul.js';
import { MIXED_REFERENCES } from './mixed.js';
import { OPTIM_REFERENCES } from './optim.js';
import { POOL2D_REFERENCES } from './pool2d.js';
import { SOFTMAX_REFERENCES } from './softmax.js';

export type Reference = (inputs: Record<string, Float32Array>, p: OpParams, pass: string) => Float64Array[];

export const REFERENCES: Record<string, Reference> = {
  relu: ({ x, dout }, _p, pass) => [pass === 'forward' ? Float64Array.from(x, (v) => Math.max(v, 0)) : Float64Array.from(x, (v, i) => (v > 0 ? dout[i] : 0))],
  ...POOL2D_REFERENCES,
  ...BATCHNORM_REFERENCES,
  ...CHANNELS_REFERENCES,
  ...CONV2D_REFERENCES,
  ...MATMUL_REFERENCES,
  ...SOFTMAX_REFERENCES,
  ...LOSS_REFERENCES,
  ...MIXED_REFERENCES,
  ...OPTIM_REFERENCES,
  ...GNN_REFERENCES,
};
