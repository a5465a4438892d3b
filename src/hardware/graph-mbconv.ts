/**
 * MBConv chains as graphs for the GNN latency predictor (graph.ts conventions; layout in space-graph.ts).
 *
 * Nodes (L + 2): 0 = input (the network input), 1..L = the searchable layers (α rows, mbconvLayers
 * order), L + 1 = output (the last layer's output). Data flow: the chain 0 → 1 → … → L + 1. A 'skip'
 * layer is still a node; its one-hot says skip.
 * Layer features: the op one-hot over MBCONV_CHOICES, the layer's input channels, input size and stride
 * (space-lut-plan.ts mbconvLayerShapes, the latency tables' shapes), the FLOPs of the choice there
 * (2 × the multiply-adds of MBCONV_OP_COST, spaces/mbconv.ts, × batch; 0 for skip) and the optional
 * latency.
 * Relaxed: every layer node takes all 7 choices. Where a layer cannot skip (stride 2 or a channel change),
 * skip's basis row is its one-hot with 0 FLOPs and latency, so the search's masked α (softmax ≈ 0 there)
 * encodes without error; a discrete architecture with skip there is rejected by the parse.
 */
import { WgnasError } from '../gpu/errors.js';
import { MBCONV_CHOICES, MBCONV_OP_COST, parseMbconv, type MbconvChoice } from '../nas/spaces/mbconv.js';
import {
  checkRelaxedProbs, relaxedGraphScales, type ArchGraph, type ArchNode, type EncodeOptions, type LatencySource, type OpInstance,
} from './graph.js';
import type { OpShape } from './lut.js';
import type { SpaceGraphs, SpaceNet } from './space-graph.js';
import { mbconvLayerShapes, mbconvLutSpace, type SpaceLutConfig } from './space-lut-plan.js';

/** Node vocabulary of MBConv graphs (F = 9 + 5 = 14 features). */
export const MBCONV_GRAPH_VOCAB = ['input', 'output', ...MBCONV_CHOICES] as const;

/** FLOPs (a multiply-add counts 2) of an MBConv choice at a layer's input shape, the whole batch; skip: 0. */
export function mbconvOpFlops(op: string, s: OpShape): number {
  if (op === 'input' || op === 'output' || op === 'skip') return 0;
  if (!(MBCONV_CHOICES as readonly string[]).includes(op)) throw new WgnasError(`mbconvOpFlops: unknown choice "${op}" (choices: ${MBCONV_CHOICES.join(', ')})`);
  return 2 * s.n * MBCONV_OP_COST[op as MbconvChoice]({ C: s.c_in, Cout: s.c_out, H: s.h, W: s.w, stride: s.stride }).flops;
}

/** The MBConv graphs of the search's chain at `net` (module comment), with an optional latency source. */
export function mbconvSpaceGraphs(net: SpaceNet, latency?: LatencySource): SpaceGraphs {
  const cfg: SpaceLutConfig = { ...net, space: 'mbconv' };
  const space = mbconvLutSpace(cfg);
  const layers = mbconvLayerShapes(cfg);
  const L = layers.length;
  const last = layers[L - 1];
  const input: OpInstance[] = [{ shape: { n: net.batch, c_in: net.inChannels, c_out: space.stem.channels, h: net.H, w: net.W, stride: space.stem.stride }, count: 1 }];
  const output: OpInstance[] = [{ shape: { ...last, c_in: last.c_out, h: Math.ceil(last.h / last.stride), w: Math.ceil(last.w / last.stride), stride: 1 }, count: 1 }];
  const edges = Array.from({ length: L + 1 }, (_, i) => [i, i + 1] as const);
  const graphOf = (layerNodes: ArchNode[]): ArchGraph => ({
    nodes: [{ ops: ['input'], probs: [1], instances: input }, ...layerNodes, { ops: ['output'], probs: [1], instances: output }],
    edges,
  });
  const relaxedGraph = (probs: readonly ArrayLike<number>[]): ArchGraph => {
    checkRelaxedProbs(`MBConv relaxed graph (α rows: the ${L} searchable layers)`, probs, L, MBCONV_CHOICES.length);
    return graphOf(probs.map((p, l) => ({ ops: MBCONV_CHOICES, probs: p, instances: [{ shape: layers[l], count: 1 }] })));
  };
  const uniform = layers.map(() => MBCONV_CHOICES.map(() => 1 / MBCONV_CHOICES.length));
  const enc: EncodeOptions = { vocab: MBCONV_GRAPH_VOCAB, scales: relaxedGraphScales(relaxedGraph(uniform), mbconvOpFlops, latency), flops: mbconvOpFlops, latency };
  return {
    space: 'mbconv', nodes: L + 2, rows: L, cols: MBCONV_CHOICES.length, primitives: MBCONV_CHOICES, edges, enc,
    graph: (arch) => graphOf(parseMbconv(arch, space).map((op, l) => ({ ops: [op], probs: [1], instances: [{ shape: layers[l], count: 1 }] }))),
    relaxedGraph,
  };
}
