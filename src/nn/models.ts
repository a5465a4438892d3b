/** Small reference classifiers for the op library's end-to-end check (wgnas train). */
import type { Device } from '../tensor/device.js';
import { flatten } from '../ops/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d, Conv2d, Linear, MaxPool2d, ReLU } from './layers.js';
import { Module, Sequential, type ModuleConfig } from './module.js';

export interface SmallCnnConfig {
  inChannels: number;
  h: number;
  w: number;
  classes: number;
  /** channels of the first conv; the second has twice as many */
  width: number;
  hidden: number;
  seed: number;
}

/**
 * conv5×5(width) → BN → ReLU → maxpool2 → conv3×3(2·width) → BN → ReLU → maxpool2 → flatten →
 * linear(hidden) → ReLU → linear(classes). ~2.6 MFLOP per 28×28 image at width 16.
 */
export class SmallCnn extends Module {
  readonly features: Sequential;
  readonly head: Sequential;
  constructor(dev: Device, readonly cfg: SmallCnnConfig) {
    super(dev);
    const w = cfg.width;
    const s = cfg.seed;
    this.features = this.addChild('features', new Sequential(dev, [
      new Conv2d(dev, { cin: cfg.inChannels, cout: w, k: 5, padding: 2, seed: s }),
      new BatchNorm2d(dev, { c: w }),
      new ReLU(dev),
      new MaxPool2d(dev, { kernel: 2, stride: 2, padding: 0 }),
      new Conv2d(dev, { cin: w, cout: 2 * w, k: 3, padding: 1, seed: s + 1 }),
      new BatchNorm2d(dev, { c: 2 * w }),
      new ReLU(dev),
      new MaxPool2d(dev, { kernel: 2, stride: 2, padding: 0 }),
    ]));
    const flat = 2 * w * Math.floor(Math.floor(cfg.h / 2) / 2) * Math.floor(Math.floor(cfg.w / 2) / 2);
    this.head = this.addChild('head', new Sequential(dev, [
      new Linear(dev, { inF: flat, outF: cfg.hidden, seed: s + 2 }),
      new ReLU(dev),
      new Linear(dev, { inF: cfg.hidden, outF: cfg.classes, seed: s + 3 }),
    ]));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(flatten(this.features.forward(x)));
  }
  config(): ModuleConfig {
    return { type: 'SmallCnn', ...this.cfg };
  }
}
