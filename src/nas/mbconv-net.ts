/**
 * MBConv-chain networks (ProxylessNAS, Cai et al. ICLR 2019; FBNet, Wu et al. CVPR 2019) for the space
 * in spaces/mbconv.ts: the weight-sharing supernet (searchable layer l holds every choice it allows) and
 * the child network of an architecture (one choice per layer). Both build exactly the network whose
 * params mbconvNetworkCost counts:
 *   stem k×k conv (stride) + BN + ReLU6 → [fixed MBConv, stride 1] → searchable layers (the first
 *   of a stage carries its stride and channel change) → [1×1 head conv + BN + ReLU6] → GAP → Linear.
 *
 * A searchable layer's candidates are MBConv blocks (nn/blocks.ts), which add the identity shortcut
 * themselves when stride is 1 and Cin = Cout, and 'skip' (Identity) where that holds. So a mixture
 *   Σ_k p_k·MBConv_k(x) + p_skip·x = x + Σ_k p_k·branch_k(x)   when Σ p = 1,
 * ProxylessNAS's mixed layer (its MobileInvertedResidualBlock keeps the shortcut outside the mixed op).
 * Where skip is not allowed (stride 2 or a channel change) the layer has no module for the 'skip'
 * column, and a plan naming it is an error.
 *
 * Plans are per layer (EdgePlan, samplers.ts): ops are α columns (MBCONV_CHOICES order). For rows
 * without skip, the weights must be normalised over the allowed columns (e.g. softmax over `allowed[l]`)
 * for the identity above to hold.
 *
 * Candidates are seeded by (layer, α column), so a child built with the same seed starts from the very
 * weights of the supernet's candidates it keeps.
 */
import { WgnasError } from '../gpu/errors.js';
import { mixedSum, unitGate } from '../ops/mixed.js';
import { relu6 } from '../ops/elementwise.js';
import { flatten } from '../ops/shape.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { Identity, MBConv } from '../nn/blocks.js';
import { BatchNorm2d, Conv2d, GlobalAvgPool, Linear } from '../nn/layers.js';
import { Module, type ModuleConfig } from '../nn/module.js';
import type { EdgePlan } from './samplers.js';
import { SearchSpaceError } from './spaces/common.js';
import {
  MBCONV_CHOICES, mbconvChoiceParams, mbconvSkipAllowed, validateMbconv,
  type MbconvArch, type MbconvChoice, type MbconvSpaceConfig,
} from './spaces/mbconv.js';

export interface MbconvModelConfig {
  space: MbconvSpaceConfig;
  /**
   * BN affine inside the searchable layers' candidates. ProxylessNAS keeps affine BN in its supernet
   * (unlike DARTS), and mbconvNetworkCost counts affine BN, so both factories below use true. The fixed
   * parts (stem, first block, head) are always affine.
   */
  affine: boolean;
  seed: number;
}

/** One searchable layer's channels and stride (independent of the input size). */
export interface MbconvChainLayer {
  cin: number;
  cout: number;
  stride: number;
  skipAllowed: boolean;
}

/** The searchable layers' channels and strides, walked from the space like mbconvLayers. */
export function mbconvChain(space: MbconvSpaceConfig): MbconvChainLayer[] {
  const skip = mbconvSkipAllowed(space);
  let c = space.firstBlock ? space.firstBlock.channels : space.stem.channels;
  const out: MbconvChainLayer[] = [];
  for (const s of space.stages) {
    for (let i = 0; i < s.layers; i++) {
      out.push({ cin: c, cout: s.channels, stride: i === 0 ? s.stride : 1, skipAllowed: skip[out.length] });
      c = s.channels;
    }
  }
  return out;
}

/** The module of one choice on one layer: MBConv(k, e) or Identity for 'skip' (checked by the caller). */
function makeCandidate(dev: Device, choice: MbconvChoice, layer: MbconvChainLayer, affine: boolean, seed: number): Module {
  const kp = mbconvChoiceParams(choice);
  if (!kp) return new Identity(dev);
  return new MBConv(dev, { cin: layer.cin, cout: layer.cout, k: kp.kernel, expansion: kp.expansion, stride: layer.stride, affine, seed });
}

const describeLayer = (l: number, s: MbconvChainLayer): string => `layer ${l} (${s.cin}→${s.cout} channels, stride ${s.stride})`;

/** The MBConv chain; layer l holds the candidates layerChoices[l] (all allowed ones: supernet; one: child). */
export class MbconvNetwork extends Module {
  readonly stem: Conv2d;
  readonly stemBn: BatchNorm2d;
  readonly firstBlock?: MBConv;
  readonly chain: readonly MbconvChainLayer[];
  /** candidates[l][k]: the module of α column k on layer l, undefined where layer l does not hold it */
  readonly candidates: (Module | undefined)[][];
  readonly head?: Conv2d;
  readonly headBn?: BatchNorm2d;
  readonly gap: GlobalAvgPool;
  readonly classifier: Linear;
  /** rows of α: one per searchable layer */
  readonly archRows: number;
  readonly archCols = MBCONV_CHOICES.length;
  /** per row, the α columns layer l holds (and so may run), ascending */
  readonly allowed: number[][];

  constructor(dev: Device, readonly cfg: MbconvModelConfig, readonly layerChoices: readonly (readonly MbconvChoice[])[]) {
    super(dev);
    const { space, seed } = cfg;
    this.chain = mbconvChain(space);
    this.archRows = this.chain.length;
    if (layerChoices.length !== this.archRows) {
      throw new SearchSpaceError(`MbconvNetwork: space "${space.name}" has ${this.archRows} searchable layers, got choices for ${layerChoices.length}`);
    }
    const k = space.stem.kernel ?? 3;
    this.stem = this.addChild('stem', new Conv2d(dev, { cin: space.inChannels, cout: space.stem.channels, k, stride: space.stem.stride, padding: (k - 1) >> 1, seed }));
    this.stemBn = this.addChild('stem_bn', new BatchNorm2d(dev, { c: space.stem.channels }));
    const f = space.firstBlock;
    if (f) this.firstBlock = this.addChild('first_block', new MBConv(dev, { cin: space.stem.channels, cout: f.channels, k: f.kernel, expansion: f.expansion, stride: 1, affine: true, seed: seed + 1 }));
    this.candidates = this.chain.map((layer, l) => {
      const held: (Module | undefined)[] = MBCONV_CHOICES.map(() => undefined);
      for (const choice of layerChoices[l]) {
        const col = MBCONV_CHOICES.indexOf(choice);
        if (col < 0) throw new SearchSpaceError(`MbconvNetwork: ${describeLayer(l, layer)} has unknown choice "${choice}"; expected one of ${MBCONV_CHOICES.join(', ')}`);
        if (held[col]) throw new SearchSpaceError(`MbconvNetwork: ${describeLayer(l, layer)} lists "${choice}" twice`);
        if (choice === 'skip' && !layer.skipAllowed) throw new SearchSpaceError(`MbconvNetwork: ${describeLayer(l, layer)} cannot be skip (needs stride 1 and equal channels)`);
        held[col] = this.addChild(`layer${l}_${choice}`, makeCandidate(dev, choice, layer, cfg.affine, seed + 1000 * (l + 1) + 10 * col));
      }
      if (layerChoices[l].length === 0) throw new SearchSpaceError(`MbconvNetwork: ${describeLayer(l, layer)} holds no choice`);
      return held;
    });
    this.allowed = this.candidates.map((held) => held.flatMap((m, col) => (m ? [col] : [])));
    let c = this.chain[this.archRows - 1].cout;
    if (space.head) {
      this.head = this.addChild('head', new Conv2d(dev, { cin: c, cout: space.head.channels, k: 1, seed: seed + 3 }));
      this.headBn = this.addChild('head_bn', new BatchNorm2d(dev, { c: space.head.channels }));
      c = space.head.channels;
    }
    this.gap = this.addChild('gap', new GlobalAvgPool(dev));
    this.classifier = this.addChild('classifier', new Linear(dev, { inF: c, outF: space.classes, seed: seed + 7 }));
  }

  /** The module of α column `col` on layer l; throws naming the layer when it holds none. */
  candidate(l: number, col: number): Module {
    const layer = this.chain[l];
    if (!layer) throw new WgnasError(`MbconvNetwork: no searchable layer ${l} (there are ${this.archRows})`);
    const m = Number.isInteger(col) ? this.candidates[l][col] : undefined;
    if (m) return m;
    const name = MBCONV_CHOICES[col];
    if (name === 'skip' && !layer.skipAllowed) throw new WgnasError(`MbconvNetwork: plan names 'skip' on ${describeLayer(l, layer)}, which cannot skip`);
    const holds = this.allowed[l].map((k) => `${k} (${MBCONV_CHOICES[k]})`).join(', ');
    throw new WgnasError(`MbconvNetwork: plan names α column ${col}${name ? ` (${name})` : ''} on ${describeLayer(l, layer)}, which holds only columns ${holds}`);
  }

  /** stem conv + BN + ReLU6, then the fixed first block if any */
  forwardStem(x: Tensor): Tensor {
    const h = relu6(this.stemBn.forward(this.stem.forward(x)));
    return this.firstBlock ? this.firstBlock.forward(h) : h;
  }

  /** Searchable layer l: the plan's ops mixed by its weights; without a plan the layer's only choice. */
  forwardLayer(l: number, h: Tensor, plan?: EdgePlan): Tensor {
    if (!plan) {
      if (this.allowed[l]?.length !== 1) {
        throw new WgnasError(`MbconvNetwork: layer ${l} holds ${this.allowed[l]?.length ?? 0} choices; running it needs a plan`);
      }
      return this.candidate(l, this.allowed[l][0]).forward(h);
    }
    if (plan.ops.length === 0) throw new WgnasError(`MbconvNetwork: the plan of layer ${l} runs no op`);
    const outs = plan.ops.map((col) => this.candidate(l, col).forward(h));
    if (plan.unit) {
      if (outs.length !== 1) throw new WgnasError(`MbconvNetwork: a unit plan runs one op; layer ${l}'s names ${plan.ops.length}`);
      return unitGate(outs[0], plan.weights);
    }
    return mixedSum(outs, plan.weights);
  }

  /** [head conv + BN + ReLU6] → GAP → Linear: logits [N, classes] */
  forwardHead(h: Tensor): Tensor {
    const g = this.head && this.headBn ? relu6(this.headBn.forward(this.head.forward(h))) : h;
    return this.classifier.forward(flatten(this.gap.forward(g)));
  }

  /** logits [N, classes]; plans: one per searchable layer (supernet), none for a child */
  forwardPlanned(x: Tensor, plans?: EdgePlan[]): Tensor {
    if (plans && plans.length !== this.archRows) {
      throw new WgnasError(`MbconvNetwork: ${plans.length} plans for ${this.archRows} searchable layers (space "${this.cfg.space.name}")`);
    }
    let h = this.forwardStem(x);
    for (let l = 0; l < this.archRows; l++) h = this.forwardLayer(l, h, plans?.[l]);
    return this.forwardHead(h);
  }

  forward(x: Tensor): Tensor {
    return this.forwardPlanned(x);
  }

  /** rebuild with new MbconvNetwork(dev, { space, affine, seed }, layerChoices) */
  config(): ModuleConfig {
    return { type: 'MbconvNetwork', ...this.cfg, layerChoices: this.layerChoices };
  }
}

/** The supernet: every layer holds all 7 choices where skip is allowed, the 6 MBConvs elsewhere. Affine BN (see MbconvModelConfig). */
export function mbconvSupernet(dev: Device, space: MbconvSpaceConfig, seed: number): MbconvNetwork {
  const choices = mbconvChain(space).map((layer) => MBCONV_CHOICES.filter((c) => c !== 'skip' || layer.skipAllowed));
  return new MbconvNetwork(dev, { space, affine: true, seed }, choices);
}

/** The child network of an architecture (validated against the space: 'skip' only where allowed). */
export function mbconvChild(dev: Device, space: MbconvSpaceConfig, arch: MbconvArch | readonly string[], seed: number): MbconvNetwork {
  const a = validateMbconv(arch, space);
  return new MbconvNetwork(dev, { space, affine: true, seed }, a.map((c) => [c]));
}
