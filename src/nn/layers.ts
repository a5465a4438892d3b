/**
 * Basic layers: Conv2d, BatchNorm2d, Linear, activations, pooling, Flatten. Each owns persistent
 * parameters, round-trips through config(), and runs only GPU ops.
 */
import { batchNorm2d } from '../ops/batchnorm.js';
import { conv2d } from '../ops/conv2d.js';
import { relu, relu6 } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { avgPool2d, globalAvgPool, maxPool2d } from '../ops/pool2d.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { kaimingUniform, Module, seededRandom, type ModuleConfig } from './module.js';

export interface Conv2dConfig {
  cin: number;
  cout: number;
  k: number;
  stride?: number;
  padding?: number;
  dilation?: number;
  groups?: number;
  bias?: boolean;
  seed?: number;
}

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  constructor(dev: Device, readonly cfg: Conv2dConfig) {
    super(dev);
    const g = cfg.groups ?? 1;
    const fanIn = (cfg.cin / g) * cfg.k * cfg.k;
    const r = seededRandom(cfg.seed ?? 1);
    const n = cfg.cout * (cfg.cin / g) * cfg.k * cfg.k;
    this.weight = this.addParam('weight', kaimingUniform(n, fanIn, r), [cfg.cout, cfg.cin / g, cfg.k, cfg.k]);
    if (cfg.bias) this.bias = this.addParam('bias', kaimingUniform(cfg.cout, fanIn, r), [cfg.cout]);
  }
  forward(x: Tensor): Tensor {
    const c = this.cfg;
    return conv2d(x, this.weight, { stride: c.stride ?? 1, padding: c.padding ?? 0, dilation: c.dilation ?? 1, groups: c.groups ?? 1, bias: this.bias });
  }
  config(): ModuleConfig {
    return { type: 'Conv2d', ...this.cfg };
  }
}

export class BatchNorm2d extends Module {
  readonly weight?: Tensor;
  readonly bias?: Tensor;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  constructor(dev: Device, readonly cfg: { c: number; affine?: boolean; momentum?: number; eps?: number }) {
    super(dev);
    if (cfg.affine ?? true) {
      this.weight = this.addParam('weight', new Float32Array(cfg.c).fill(1), [cfg.c]);
      this.bias = this.addParam('bias', new Float32Array(cfg.c), [cfg.c]);
    }
    this.runningMean = this.addBuffer('running_mean', new Float32Array(cfg.c), [cfg.c]);
    this.runningVar = this.addBuffer('running_var', new Float32Array(cfg.c).fill(1), [cfg.c]);
  }
  forward(x: Tensor): Tensor {
    return batchNorm2d(x, {
      weight: this.weight,
      bias: this.bias,
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum: this.cfg.momentum ?? 0.1,
      eps: this.cfg.eps ?? 1e-5,
    });
  }
  config(): ModuleConfig {
    return { type: 'BatchNorm2d', ...this.cfg };
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias?: Tensor;
  constructor(dev: Device, readonly cfg: { inF: number; outF: number; bias?: boolean; seed?: number }) {
    super(dev);
    const r = seededRandom(cfg.seed ?? 1);
    this.weight = this.addParam('weight', kaimingUniform(cfg.outF * cfg.inF, cfg.inF, r), [cfg.outF, cfg.inF]);
    if (cfg.bias ?? true) this.bias = this.addParam('bias', kaimingUniform(cfg.outF, cfg.inF, r), [cfg.outF]);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
  config(): ModuleConfig {
    return { type: 'Linear', ...this.cfg };
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
  config(): ModuleConfig {
    return { type: 'ReLU' };
  }
}

export class ReLU6 extends Module {
  forward(x: Tensor): Tensor {
    return relu6(x);
  }
  config(): ModuleConfig {
    return { type: 'ReLU6' };
  }
}

export class MaxPool2d extends Module {
  constructor(dev: Device, readonly cfg: { kernel: number; stride: number; padding: number }) {
    super(dev);
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.cfg);
  }
  config(): ModuleConfig {
    return { type: 'MaxPool2d', ...this.cfg };
  }
}

export class AvgPool2d extends Module {
  constructor(dev: Device, readonly cfg: { kernel: number; stride: number; padding: number; countIncludePad?: boolean }) {
    super(dev);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, this.cfg);
  }
  config(): ModuleConfig {
    return { type: 'AvgPool2d', ...this.cfg };
  }
}

/** [N,C,H,W] → [N,C] */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
  config(): ModuleConfig {
    return { type: 'GlobalAvgPool' };
  }
}
