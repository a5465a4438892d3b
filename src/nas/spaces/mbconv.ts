/**
 * MBConv chain space (ProxylessNAS, Cai et al. ICLR 2019; FBNet, Wu et al. CVPR 2019): a stem, an
 * optional fixed first block, then stages of searchable layers, each layer one of
 *   MBConv kernel k ∈ {3,5,7} × expansion e ∈ {3,6}  (1×1 expand-BN-ReLU6, k×k depthwise-BN-ReLU6,
 *   1×1 project-BN; identity shortcut when stride 1 and Cin = Cout), or 'skip' (the layer is removed),
 * allowed only where the layer has stride 1 and Cin = Cout. The first layer of a stage carries the
 * stage's stride and channel change. An architecture is one choice per searchable layer, written
 * `k3e6-k5e3-skip-…`. Shapes come from the config and the input size; nothing is hard-coded.
 */
import {
  type Cost, type OpShape, type SearchSpace, SearchSpaceError, zeroCost,
  addCost, argmax, bnCost, checkMatrix, convCost, convOut, deepFreeze, linearCost, outputCost, scaleCost, sumCosts,
} from './common.js';

export const MBCONV_KERNELS = [3, 5, 7] as const;
export const MBCONV_EXPANSIONS = [3, 6] as const;
/** α-column order for this space. */
export const MBCONV_CHOICES = ['k3e3', 'k3e6', 'k5e3', 'k5e6', 'k7e3', 'k7e6', 'skip'] as const;
export type MbconvChoice = (typeof MBCONV_CHOICES)[number];

/** Kernel and expansion of a choice; null for 'skip'. */
export function mbconvChoiceParams(choice: MbconvChoice): { kernel: number; expansion: number } | null {
  if (choice === 'skip') return null;
  const m = /^k([0-9]+)e([0-9]+)$/.exec(choice);
  if (!m || !(MBCONV_CHOICES as readonly string[]).includes(choice)) throw new SearchSpaceError(`unknown MBConv choice "${choice}"; expected one of ${MBCONV_CHOICES.join(', ')}`);
  return { kernel: Number(m[1]), expansion: Number(m[2]) };
}

export interface MbconvStage {
  /** output channels of every layer of the stage */
  channels: number;
  /** searchable layers */
  layers: number;
  /** stride of the stage's first layer */
  stride: number;
}

export interface MbconvSpaceConfig {
  name: string;
  inChannels: number;
  /** k×k conv (default k = 3) + BN + ReLU6 */
  stem: { channels: number; stride: number; kernel?: number };
  /** a fixed MBConv (stride 1) between the stem and the searchable layers, as ProxylessNAS/MobileNetV2's MB1 3×3 */
  firstBlock?: { channels: number; kernel: number; expansion: number };
  stages: MbconvStage[];
  /** 1×1 conv + BN + ReLU6 before pooling ("feature mix" layer) */
  head?: { channels: number };
  classes: number;
}

/** ProxylessNAS's mobile search space (ImageNet): 21 searchable layers. */
export const PROXYLESS_MOBILE_SPACE: Readonly<MbconvSpaceConfig> = deepFreeze({
  name: 'proxyless-mobile',
  inChannels: 3,
  stem: { channels: 32, stride: 2 },
  firstBlock: { channels: 16, kernel: 3, expansion: 1 },
  stages: [
    { channels: 24, layers: 4, stride: 2 }, { channels: 40, layers: 4, stride: 2 }, { channels: 80, layers: 4, stride: 2 },
    { channels: 96, layers: 4, stride: 1 }, { channels: 192, layers: 4, stride: 2 }, { channels: 320, layers: 1, stride: 1 },
  ],
  head: { channels: 1280 },
  classes: 1000,
});

/** MobileNetV2's layout (ImageNet); with every layer k3e6 it is MobileNetV2 1.0 (3,504,872 params). */
export const MOBILENET_V2_SPACE: Readonly<MbconvSpaceConfig> = deepFreeze({
  name: 'mobilenet-v2',
  inChannels: 3,
  stem: { channels: 32, stride: 2 },
  firstBlock: { channels: 16, kernel: 3, expansion: 1 },
  stages: [
    { channels: 24, layers: 2, stride: 2 }, { channels: 32, layers: 3, stride: 2 }, { channels: 64, layers: 4, stride: 2 },
    { channels: 96, layers: 3, stride: 1 }, { channels: 160, layers: 3, stride: 2 }, { channels: 320, layers: 1, stride: 1 },
  ],
  head: { channels: 1280 },
  classes: 1000,
});

/** A small space for 28×28 grey images (Fashion-MNIST / MNIST) that runs on a software adapter. */
export const TINY_MBCONV_SPACE: Readonly<MbconvSpaceConfig> = deepFreeze({
  name: 'tiny-mbconv',
  inChannels: 1,
  stem: { channels: 16, stride: 1 },
  stages: [{ channels: 16, layers: 2, stride: 1 }, { channels: 24, layers: 3, stride: 2 }, { channels: 40, layers: 3, stride: 2 }],
  classes: 10,
});

/** One searchable layer with its input shape. */
export interface MbconvLayer {
  index: number;
  stage: number;
  Cin: number;
  Cout: number;
  /** input resolution */
  H: number;
  W: number;
  stride: number;
  skipAllowed: boolean;
}

function checkConfig(cfg: MbconvSpaceConfig): void {
  const pos = (what: string, v: unknown): void => {
    if (!Number.isInteger(v) || (v as number) < 1) throw new SearchSpaceError(`MBConv space "${cfg.name}": ${what} must be a positive integer, got ${v}`);
  };
  pos('inChannels', cfg.inChannels);
  pos('stem.channels', cfg.stem.channels);
  pos('stem.stride', cfg.stem.stride);
  pos('classes', cfg.classes);
  if (cfg.firstBlock) (['channels', 'kernel', 'expansion'] as const).forEach((k) => pos(`firstBlock.${k}`, cfg.firstBlock![k]));
  if (cfg.head) pos('head.channels', cfg.head.channels);
  if (!Array.isArray(cfg.stages) || cfg.stages.length === 0) throw new SearchSpaceError(`MBConv space "${cfg.name}": needs at least one stage`);
  cfg.stages.forEach((s, i) => (['channels', 'layers', 'stride'] as const).forEach((k) => pos(`stages[${i}].${k}`, s[k])));
}

/** The channels entering the searchable layers (after stem and first block). */
function chainInput(cfg: MbconvSpaceConfig): number {
  return cfg.firstBlock ? cfg.firstBlock.channels : cfg.stem.channels;
}

/** Whether each searchable layer may be 'skip' (stride 1 and Cin = Cout); independent of the input size. */
export function mbconvSkipAllowed(cfg: MbconvSpaceConfig): boolean[] {
  checkConfig(cfg);
  let c = chainInput(cfg);
  const out: boolean[] = [];
  for (const s of cfg.stages) {
    for (let l = 0; l < s.layers; l++) {
      const stride = l === 0 ? s.stride : 1;
      out.push(stride === 1 && c === s.channels);
      c = s.channels;
    }
  }
  return out;
}

/** Every searchable layer with its input shape for an input of H×W. */
export function mbconvLayers(cfg: MbconvSpaceConfig, input: { H: number; W: number }): MbconvLayer[] {
  const skip = mbconvSkipAllowed(cfg);
  const k = cfg.stem.kernel ?? 3;
  let h = convOut(input.H, k, cfg.stem.stride, (k - 1) >> 1);
  let w = convOut(input.W, k, cfg.stem.stride, (k - 1) >> 1);
  let c = chainInput(cfg);
  const layers: MbconvLayer[] = [];
  cfg.stages.forEach((s, stage) => {
    for (let l = 0; l < s.layers; l++) {
      const stride = l === 0 ? s.stride : 1;
      layers.push({ index: layers.length, stage, Cin: c, Cout: s.channels, H: h, W: w, stride, skipAllowed: skip[layers.length] });
      [c, h, w] = [s.channels, Math.ceil(h / stride), Math.ceil(w / stride)];
    }
  });
  if (h < 1 || w < 1) throw new SearchSpaceError(`MBConv space "${cfg.name}": input ${input.H}×${input.W} is too small`);
  return layers;
}

export type MbconvArch = readonly MbconvChoice[];

/** Checks an arch against a space: one known choice per layer, 'skip' only where allowed. */
export function validateMbconv(arch: readonly string[], cfg?: MbconvSpaceConfig): MbconvArch {
  if (!Array.isArray(arch)) throw new SearchSpaceError(`MBConv arch: expected a list of choices, got ${typeof arch}`);
  arch.forEach((c, i) => {
    if (!(MBCONV_CHOICES as readonly string[]).includes(c)) {
      throw new SearchSpaceError(`MBConv arch: layer ${i} has unknown choice "${c}"; expected one of ${MBCONV_CHOICES.join(', ')}`);
    }
  });
  if (cfg) {
    const skip = mbconvSkipAllowed(cfg);
    if (arch.length !== skip.length) throw new SearchSpaceError(`MBConv arch: space "${cfg.name}" has ${skip.length} searchable layers, the arch has ${arch.length}`);
    arch.forEach((c, i) => {
      if (c === 'skip' && !skip[i]) throw new SearchSpaceError(`MBConv arch: layer ${i} of space "${cfg.name}" cannot be skip (it has stride > 1 or changes channels)`);
    });
  }
  return Object.freeze([...arch]) as MbconvArch;
}

/** `k3e6-k5e3-skip-…` */
export function formatMbconv(arch: MbconvArch): string {
  return validateMbconv(arch).join('-');
}

/** Parses `k3e6-k5e3-skip-…`; with a config, also checks length and skip positions. Errors name the bad token. */
export function parseMbconv(str: string, cfg?: MbconvSpaceConfig): MbconvArch {
  if (typeof str !== 'string' || str.length === 0) throw new SearchSpaceError(`bad MBConv arch string ${JSON.stringify(str)}: expected choices joined by "-"`);
  const tokens = str.split('-');
  tokens.forEach((t, i) => {
    if (!(MBCONV_CHOICES as readonly string[]).includes(t)) {
      throw new SearchSpaceError(`bad MBConv arch string "${str}": layer ${i} token "${t}" is not one of ${MBCONV_CHOICES.join(', ')}`);
    }
  });
  return validateMbconv(tokens, cfg);
}

/** argmax per layer over the choices the layer allows (α: layers × MBCONV_CHOICES; 'skip' masked where not allowed). */
export function deriveMbconv(alpha: readonly (readonly number[])[], cfg: MbconvSpaceConfig): MbconvArch {
  const skip = mbconvSkipAllowed(cfg);
  checkMatrix(`deriveMbconv alpha (space "${cfg.name}")`, alpha, skip.length, MBCONV_CHOICES.length);
  const skipCol = MBCONV_CHOICES.indexOf('skip');
  return validateMbconv(alpha.map((row, i) => MBCONV_CHOICES[argmax(row, skip[i] ? [] : [skipCol])]), cfg);
}

// ---- analytic costs (conventions in common.ts) ----

/**
 * One inverted-residual block on a Cin×H×W input: 1×1 expand (omitted when e = 1) + BN + ReLU6, k×k
 * depthwise with the stride (padding k/2) + BN + ReLU6, 1×1 project + BN, and the identity shortcut's
 * add when stride 1 and Cin = Cout (no MACs; its output counts as an activation).
 */
export function mbconvBlockCost(cin: number, cout: number, kernel: number, expansion: number, stride: number, H: number, W: number, affine = true): Cost {
  const mid = cin * expansion;
  const ho = convOut(H, kernel, stride, (kernel - 1) >> 1);
  const wo = convOut(W, kernel, stride, (kernel - 1) >> 1);
  const parts: Cost[] = [];
  if (expansion !== 1) parts.push(convCost(cin, mid, 1, H, W), bnCost(mid, H, W, affine), outputCost(mid * H * W));
  parts.push(convCost(mid, mid, kernel, ho, wo, mid), bnCost(mid, ho, wo, affine), outputCost(mid * ho * wo));
  parts.push(convCost(mid, cout, 1, ho, wo), bnCost(cout, ho, wo, affine));
  if (stride === 1 && cin === cout) parts.push(outputCost(cout * ho * wo));
  return sumCosts(parts);
}

function skipAllowedOn(s: OpShape): boolean {
  return s.stride === 1 && (s.Cout ?? s.C) === s.C;
}

export const MBCONV_OP_COST: Readonly<Record<MbconvChoice, (s: OpShape) => Cost>> = Object.freeze(
  Object.fromEntries(MBCONV_CHOICES.map((choice) => [choice, (s: OpShape): Cost => {
    const kp = mbconvChoiceParams(choice);
    if (!kp) {
      if (!skipAllowedOn(s)) throw new SearchSpaceError(`MBConv skip needs stride 1 and Cout = C; got ${JSON.stringify(s)}`);
      return zeroCost();
    }
    return mbconvBlockCost(s.C, s.Cout ?? s.C, kp.kernel, kp.expansion, s.stride, s.H, s.W, s.affine);
  }])) as Record<MbconvChoice, (s: OpShape) => Cost>,
);

export const MBCONV_SPACE: SearchSpace<MbconvChoice> = Object.freeze({
  name: 'mbconv',
  primitives: MBCONV_CHOICES,
  opCost: (op: MbconvChoice, s: OpShape) => MBCONV_OP_COST[op](s),
  allows: (op: MbconvChoice, s: OpShape) => op !== 'skip' || skipAllowedOn(s),
});

/** The shape a layer's op sees, for opCost and the LUT (key: opKey in src/hardware/lut.ts). */
export function mbconvLayerShape(layer: MbconvLayer): OpShape {
  return { C: layer.Cin, Cout: layer.Cout, H: layer.H, W: layer.W, stride: layer.stride };
}

/** Stem (conv, BN, ReLU6), first block, head (conv, BN, ReLU6), GAP and classifier: the part that does not depend on the choices. */
function fixedCost(cfg: MbconvSpaceConfig, input: { H: number; W: number }): Cost {
  const k = cfg.stem.kernel ?? 3;
  const h = convOut(input.H, k, cfg.stem.stride, (k - 1) >> 1);
  const w = convOut(input.W, k, cfg.stem.stride, (k - 1) >> 1);
  const sc = cfg.stem.channels;
  const parts: Cost[] = [convCost(cfg.inChannels, sc, k, h, w), bnCost(sc, h, w), outputCost(sc * h * w)];
  if (cfg.firstBlock) {
    const f = cfg.firstBlock;
    parts.push(mbconvBlockCost(cfg.stem.channels, f.channels, f.kernel, f.expansion, 1, h, w));
  }
  const layers = mbconvLayers(cfg, input);
  const last = layers[layers.length - 1];
  const [hl, wl] = [Math.ceil(last.H / last.stride), Math.ceil(last.W / last.stride)];
  let c = last.Cout;
  if (cfg.head) {
    const hc = cfg.head.channels;
    parts.push(convCost(c, hc, 1, hl, wl), bnCost(hc, hl, wl), outputCost(hc * hl * wl));
    c = hc;
  }
  parts.push(outputCost(c), linearCost(c, cfg.classes)); // GAP, Linear
  return sumCosts(parts);
}

/** FLOPs (MACs), params and activations of the network with these choices on an H×W input. */
export function mbconvNetworkCost(arch: MbconvArch, cfg: MbconvSpaceConfig, input: { H: number; W: number }): Cost {
  const a = validateMbconv(arch, cfg);
  return mbconvExpectedNetworkCost(a.map((c) => MBCONV_CHOICES.map((x) => (x === c ? 1 : 0))), cfg, input);
}

/** Expected network cost when layer l takes choice k with probability probs[l][k] (layers × 7). */
export function mbconvExpectedNetworkCost(probs: readonly (readonly number[])[], cfg: MbconvSpaceConfig, input: { H: number; W: number }): Cost {
  const layers = mbconvLayers(cfg, input);
  checkMatrix(`mbconvExpectedNetworkCost probs (space "${cfg.name}")`, probs, layers.length, MBCONV_CHOICES.length);
  let total = fixedCost(cfg, input);
  layers.forEach((layer, l) => {
    MBCONV_CHOICES.forEach((choice, k) => {
      const p = probs[l][k];
      if (p === 0) return;
      if (choice === 'skip' && !layer.skipAllowed) throw new SearchSpaceError(`mbconvExpectedNetworkCost: layer ${l} of "${cfg.name}" cannot be skip, yet p(skip) = ${p}`);
      total = addCost(total, scaleCost(MBCONV_OP_COST[choice](mbconvLayerShape(layer)), p));
    });
  });
  return total;
}
