/**
 * DARTS architectures as graphs for the GNN latency predictor (graph.ts conventions: the line graph, a
 * fixed node count, scale-only features linear in the op probabilities; layout in space-graph.ts).
 *
 * Nodes (30): 0 = input (the network input), 1..14 = the normal cell's 14 edges (α rows 0..13, in
 * dartsEdges order), 15..28 = the reduction cell's (α rows 14..27), 29 = output (the head's input). An
 * edge a genotype does not keep is a 'none' node, as NB201's none.
 *
 * Data flow (the same for every architecture):
 *   - inside a cell type, edge (i→j) feeds every edge leaving state j (the line graph);
 *   - a cell's output is the concat of its states 2..5, and every edge ends in one of them: so every
 *     normal-cell edge feeds each reduction-cell edge that reads a cell input (state 0 or 1), and every
 *     reduction-cell edge feeds the output node;
 *   - the input node feeds the normal-cell edges that read a cell input.
 * The graph is one normal cell then one reduction cell, acyclic: the network's pattern once. How often
 * each cell type runs (3N normal cells over 3 stages, 2 reduction cells) is in the FLOPs and latency
 * features: an edge op runs in every cell of its type, so its instances are its input shapes in all
 * those cells (space-lut-plan.ts dartsCellShapes / dartsEdgeShapes, the latency tables' shapes; equal
 * shapes merged with a count); channels, spatial size and stride are those of its first cell.
 *
 * FLOPs: 2 × the multiply-adds of DARTS_OP_COST (spaces/darts.ts) × batch; the pools, 'none' and the
 * stride-1 skip_connect count 0 (the space's convention), skip_connect at stride 2 is FactorizedReduce.
 *
 * Architectures: a DARTS genotype (the Python repr, darts-format.ts, or its JSON) with 4 intermediate
 * nodes per cell that concatenates all 4 — what derivation and `wgnas latency --sample` write. Two genes of
 * one node reading the same state cannot be one edge's op and are an error.
 */
import { WgnasError } from '../gpu/errors.js';
import { DARTS_EDGES, DARTS_OP_COST, DARTS_PRIMITIVES, DARTS_STEPS, genotypeFromJson, validateGenotype, type DartsPrimitive, type Genotype } from '../nas/spaces/darts.js';
import { parseGenotype } from '../nas/spaces/darts-format.js';
import {
  checkRelaxedProbs, relaxedGraphScales, type ArchGraph, type ArchNode, type EncodeOptions, type LatencySource, type OpInstance,
} from './graph.js';
import type { OpShape } from './lut.js';
import type { SpaceGraphs, SpaceNet } from './space-graph.js';
import { dartsCellShapes, dartsEdgeShapes, type SpaceLutConfig } from './space-lut-plan.js';

const E = DARTS_EDGES.length;

/** Node vocabulary of DARTS graphs (F = 10 + 5 = 15 features). */
export const DARTS_GRAPH_VOCAB = ['input', 'output', ...DARTS_PRIMITIVES] as const;
/** input, the normal cell's 14 edges, the reduction cell's 14, output */
export const DARTS_GRAPH_NODES = 2 * E + 2;

/** Data flow between the 30 nodes (module comment). */
export function dartsGraphEdges(): [number, number][] {
  const out = DARTS_GRAPH_NODES - 1;
  const edges: [number, number][] = [];
  for (const cell of [0, 1]) {
    const base = 1 + cell * E;
    DARTS_EDGES.forEach((e, i) => {
      if (e.from < 2) {
        if (cell === 0) edges.push([0, base + i]);
        else for (let j = 0; j < E; j++) edges.push([1 + j, base + i]);
      }
      DARTS_EDGES.forEach((e2, i2) => {
        if (e2.from === e.to + 2) edges.push([base + i, base + i2]);
      });
      if (cell === 1) edges.push([base + i, out]);
    });
  }
  return edges;
}

/** A DARTS genotype from its Python repr or its JSON (as `wgnas latency --arch` reads it). */
export function parseDartsArch(arch: string): Genotype {
  return arch.trimStart().startsWith('{') ? genotypeFromJson(arch) : parseGenotype(arch);
}

/** The 28 edge ops of a genotype in α-row order (normal cell, then reduction cell); 'none' where no gene. */
export function dartsEdgeOps(arch: string | Genotype): DartsPrimitive[] {
  const g = typeof arch === 'string' ? parseDartsArch(arch) : validateGenotype(arch);
  const ops = new Array<DartsPrimitive>(2 * E).fill('none');
  const cells = [['normal', g.normal, g.normal_concat], ['reduction', g.reduce, g.reduce_concat]] as const;
  cells.forEach(([name, genes, concat], c) => {
    if (genes.length !== 2 * DARTS_STEPS) throw new WgnasError(`DARTS graph: the ${name} cell has ${genes.length / 2} intermediate nodes; the predictor's graph models ${DARTS_STEPS}`);
    const all = Array.from({ length: DARTS_STEPS }, (_, i) => i + 2);
    if (concat.length !== all.length || !all.every((s) => concat.includes(s))) {
      throw new WgnasError(`DARTS graph: the ${name} cell concatenates states [${concat.join(', ')}]; the predictor's graph models cells that concatenate all of ${all.join(', ')}`);
    }
    const seen = new Set<number>();
    genes.forEach(([op, from], i) => {
      const to = Math.floor(i / 2);
      const row = DARTS_EDGES.findIndex((e) => e.to === to && e.from === from);
      if (seen.has(row)) throw new WgnasError(`DARTS graph: node ${to} of the ${name} cell reads state ${from} twice; one edge holds one op`);
      seen.add(row);
      ops[c * E + row] = op;
    });
  });
  return ops;
}

/** FLOPs (a multiply-add counts 2) of a DARTS op at an input shape, the whole batch (module comment). */
export function dartsOpFlops(op: string, s: OpShape): number {
  if (op === 'input' || op === 'output') return 0;
  if (!(DARTS_PRIMITIVES as readonly string[]).includes(op)) throw new WgnasError(`dartsOpFlops: unknown op "${op}" (ops: ${DARTS_PRIMITIVES.join(', ')})`);
  return 2 * s.n * DARTS_OP_COST[op as DartsPrimitive]({ C: s.c_in, Cout: s.c_out, H: s.h, W: s.w, stride: s.stride }).flops;
}

/** Equal shapes merged, first-seen order kept. */
function mergeInstances(shapes: readonly OpShape[]): OpInstance[] {
  const byKey = new Map<string, OpInstance>();
  for (const shape of shapes) {
    const key = JSON.stringify(shape);
    const inst = byKey.get(key);
    if (inst) inst.count++;
    else byKey.set(key, { shape, count: 1 });
  }
  return [...byKey.values()];
}

/** Where each α row's edge runs: its input shape in every cell of its type (normal rows 0..13, reduction rows 14..27). */
export function dartsEdgeInstances(net: SpaceNet): OpInstance[][] {
  const cfg: SpaceLutConfig = { ...net, space: 'darts' };
  const shapes: OpShape[][] = Array.from({ length: 2 * E }, () => []);
  for (const cell of dartsCellShapes(cfg)) dartsEdgeShapes(cfg, cell).forEach((s, e) => shapes[(cell.reduction ? E : 0) + e].push(s));
  return shapes.map(mergeInstances);
}

/** The DARTS graphs of the search's network at `net` (module comment), with an optional latency source. */
export function dartsSpaceGraphs(net: SpaceNet, latency?: LatencySource): SpaceGraphs {
  const instances = dartsEdgeInstances(net);
  const cells = dartsCellShapes({ ...net, space: 'darts' });
  const last = cells[cells.length - 1];
  const n = net.batch;
  const input: OpInstance[] = [{ shape: { n, c_in: net.inChannels, c_out: 3 * net.C, h: net.H, w: net.W, stride: net.stemStride }, count: 1 }];
  const output: OpInstance[] = [{ shape: { n, c_in: 4 * last.C, c_out: net.classes, h: last.hOut, w: last.wOut, stride: 1 }, count: 1 }];
  const edges = dartsGraphEdges();
  const graphOf = (edgeNodes: ArchNode[]): ArchGraph => ({
    nodes: [{ ops: ['input'], probs: [1], instances: input }, ...edgeNodes, { ops: ['output'], probs: [1], instances: output }],
    edges,
  });
  const relaxedGraph = (probs: readonly ArrayLike<number>[]): ArchGraph => {
    checkRelaxedProbs('DARTS relaxed graph (α rows: 14 normal-cell edges, then 14 reduction-cell edges)', probs, 2 * E, DARTS_PRIMITIVES.length);
    return graphOf(probs.map((p, r) => ({ ops: DARTS_PRIMITIVES, probs: p, instances: instances[r] })));
  };
  const uniform = Array.from({ length: 2 * E }, () => DARTS_PRIMITIVES.map(() => 1 / DARTS_PRIMITIVES.length));
  const enc: EncodeOptions = { vocab: DARTS_GRAPH_VOCAB, scales: relaxedGraphScales(relaxedGraph(uniform), dartsOpFlops, latency), flops: dartsOpFlops, latency };
  return {
    space: 'darts', nodes: DARTS_GRAPH_NODES, rows: 2 * E, cols: DARTS_PRIMITIVES.length, primitives: DARTS_PRIMITIVES, edges, enc,
    graph: (arch) => graphOf(dartsEdgeOps(arch).map((op, r) => ({ ops: [op], probs: [1], instances: instances[r] }))),
    relaxedGraph,
  };
}
