/**
 * NAS building blocks: ReLU-Conv-BN (NAS-Bench-201 nor_conv), SepConv and DilConv (DARTS),
 * FactorizedReduce, MBConv (ProxylessNAS/FBNet), the NAS-Bench-201 residual reduction block, and the
 * 'none' (Zero) and 'skip_connect' (Identity) ops.
 */
import { concat, shiftCrop, zeroOp } from '../ops/channels.js';
import { add, relu, relu6 } from '../ops/elementwise.js';
import { avgPool2d } from '../ops/pool2d.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm2d, Conv2d } from './layers.js';
import { Module, type ModuleConfig } from './module.js';

export interface BlockOpts {
  affine?: boolean;
  seed?: number;
}

/** ReLU → Conv(k, stride, pad, dilation) → BN (NB201 nor_conv_kxk; DARTS ReLUConvBN). */
export class ReLUConvBN extends Module {
  readonly conv: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number; k: number; stride: number; padding: number; dilation?: number } & BlockOpts) {
    super(dev);
    this.conv = this.addChild('conv', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cout, k: cfg.k, stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation ?? 1, seed: cfg.seed }));
    this.bn = this.addChild('bn', new BatchNorm2d(dev, { c: cfg.cout, affine: cfg.affine }));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.conv.forward(relu(x)));
  }
  config(): ModuleConfig {
    return { type: 'ReLUConvBN', ...this.cfg };
  }
}

/** DARTS DilConv: ReLU → depthwise conv(k, dilation) → 1×1 conv → BN. */
export class DilConv extends Module {
  readonly dw: Conv2d;
  readonly pw: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number; k: number; stride: number; padding: number; dilation: number } & BlockOpts) {
    super(dev);
    const s = cfg.seed ?? 1;
    this.dw = this.addChild('dw', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cin, k: cfg.k, stride: cfg.stride, padding: cfg.padding, dilation: cfg.dilation, groups: cfg.cin, seed: s }));
    this.pw = this.addChild('pw', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cout, k: 1, seed: s + 1 }));
    this.bn = this.addChild('bn', new BatchNorm2d(dev, { c: cfg.cout, affine: cfg.affine }));
  }
  forward(x: Tensor): Tensor {
    return this.bn.forward(this.pw.forward(this.dw.forward(relu(x))));
  }
  config(): ModuleConfig {
    return { type: 'DilConv', ...this.cfg };
  }
}

/** DARTS SepConv: two DilConv(dilation 1) blocks, the first with the stride. */
export class SepConv extends Module {
  readonly a: DilConv;
  readonly b: DilConv;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number; k: number; stride: number; padding: number } & BlockOpts) {
    super(dev);
    const s = cfg.seed ?? 1;
    this.a = this.addChild('a', new DilConv(dev, { cin: cfg.cin, cout: cfg.cin, k: cfg.k, stride: cfg.stride, padding: cfg.padding, dilation: 1, affine: cfg.affine, seed: s }));
    this.b = this.addChild('b', new DilConv(dev, { cin: cfg.cin, cout: cfg.cout, k: cfg.k, stride: 1, padding: cfg.padding, dilation: 1, affine: cfg.affine, seed: s + 7 }));
  }
  forward(x: Tensor): Tensor {
    return this.b.forward(this.a.forward(x));
  }
  config(): ModuleConfig {
    return { type: 'SepConv', ...this.cfg };
  }
}

/** DARTS FactorizedReduce: ReLU → concat(conv1×1 s2 (x), conv1×1 s2 (x shifted by one pixel)) → BN. */
export class FactorizedReduce extends Module {
  readonly c1: Conv2d;
  readonly c2: Conv2d;
  readonly bn: BatchNorm2d;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number } & BlockOpts) {
    super(dev);
    if (cfg.cout % 2 !== 0) throw new Error(`FactorizedReduce: cout ${cfg.cout} must be even`);
    const s = cfg.seed ?? 1;
    this.c1 = this.addChild('c1', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cout / 2, k: 1, stride: 2, seed: s }));
    this.c2 = this.addChild('c2', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cout / 2, k: 1, stride: 2, seed: s + 1 }));
    this.bn = this.addChild('bn', new BatchNorm2d(dev, { c: cfg.cout, affine: cfg.affine }));
  }
  forward(x: Tensor): Tensor {
    const r = relu(x);
    return this.bn.forward(concat([this.c1.forward(r), this.c2.forward(shiftCrop(r, 1, 1))]));
  }
  config(): ModuleConfig {
    return { type: 'FactorizedReduce', ...this.cfg };
  }
}

/** The 'none' op: zeros of the output shape (stride 1 or 2). */
export class Zero extends Module {
  constructor(dev: Device, readonly cfg: { stride: number }) {
    super(dev);
  }
  forward(x: Tensor): Tensor {
    return zeroOp(x, this.cfg.stride);
  }
  config(): ModuleConfig {
    return { type: 'Zero', ...this.cfg };
  }
}

/** 'skip_connect' at stride 1: returns its input (no kernel, no copy). */
export class Identity extends Module {
  forward(x: Tensor): Tensor {
    return x;
  }
  config(): ModuleConfig {
    return { type: 'Identity' };
  }
}

/** MBConv (ProxylessNAS/FBNet): 1×1 expand → ReLU6 → depthwise k×k (stride) → ReLU6 → 1×1 project → BN (+ residual). */
export class MBConv extends Module {
  readonly expand?: Conv2d;
  readonly bn0?: BatchNorm2d;
  readonly dw: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly project: Conv2d;
  readonly bn2: BatchNorm2d;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number; k: number; expansion: number; stride: number } & BlockOpts) {
    super(dev);
    const s = cfg.seed ?? 1;
    const mid = cfg.cin * cfg.expansion;
    if (cfg.expansion !== 1) {
      this.expand = this.addChild('expand', new Conv2d(dev, { cin: cfg.cin, cout: mid, k: 1, seed: s }));
      this.bn0 = this.addChild('bn0', new BatchNorm2d(dev, { c: mid, affine: cfg.affine }));
    }
    this.dw = this.addChild('dw', new Conv2d(dev, { cin: mid, cout: mid, k: cfg.k, stride: cfg.stride, padding: (cfg.k - 1) / 2, groups: mid, seed: s + 1 }));
    this.bn1 = this.addChild('bn1', new BatchNorm2d(dev, { c: mid, affine: cfg.affine }));
    this.project = this.addChild('project', new Conv2d(dev, { cin: mid, cout: cfg.cout, k: 1, seed: s + 2 }));
    this.bn2 = this.addChild('bn2', new BatchNorm2d(dev, { c: cfg.cout, affine: cfg.affine }));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    if (this.expand && this.bn0) h = relu6(this.bn0.forward(this.expand.forward(h)));
    h = relu6(this.bn1.forward(this.dw.forward(h)));
    h = this.bn2.forward(this.project.forward(h));
    return this.cfg.stride === 1 && this.cfg.cin === this.cfg.cout ? add(h, x) : h;
  }
  config(): ModuleConfig {
    return { type: 'MBConv', ...this.cfg };
  }
}

/** NAS-Bench-201 residual reduction block: ReLUConvBN(3×3, s2) → ReLUConvBN(3×3) + (AvgPool 2×2 → Conv1×1) shortcut. */
export class ResNetBasicBlock extends Module {
  readonly a: ReLUConvBN;
  readonly b: ReLUConvBN;
  readonly down: Conv2d;
  constructor(dev: Device, readonly cfg: { cin: number; cout: number } & BlockOpts) {
    super(dev);
    const s = cfg.seed ?? 1;
    this.a = this.addChild('a', new ReLUConvBN(dev, { cin: cfg.cin, cout: cfg.cout, k: 3, stride: 2, padding: 1, affine: true, seed: s }));
    this.b = this.addChild('b', new ReLUConvBN(dev, { cin: cfg.cout, cout: cfg.cout, k: 3, stride: 1, padding: 1, affine: true, seed: s + 1 }));
    this.down = this.addChild('down', new Conv2d(dev, { cin: cfg.cin, cout: cfg.cout, k: 1, seed: s + 2 }));
  }
  forward(x: Tensor): Tensor {
    // NB201 pools 2×2 on its even inputs; on odd inputs a 3×3/s2/p1 pool matches the conv path's size
    const odd = x.shape[2] % 2 === 1 || x.shape[3] % 2 === 1;
    const shortcut = this.down.forward(avgPool2d(x, odd ? { kernel: 3, stride: 2, padding: 1 } : { kernel: 2, stride: 2, padding: 0 }));
    return add(this.b.forward(this.a.forward(x)), shortcut);
  }
  config(): ModuleConfig {
    return { type: 'ResNetBasicBlock', ...this.cfg };
  }
}
