/**
 * Graph ops of the GNN latency predictor (shaders/gnn.wgsl): message passing over a (normalised)
 * adjacency and the node readout. Dense layers around them use the linear op; these are only the
 * graph-specific kernels.
 *
 * graphAggregate(adj, h): out[b] = adj[b] · h[b], adj [B, n, n] (row = receiving node) or [n, n] shared
 * by the batch, h [B, n, f]. Backward gives dh = adjᵀ·dout and, when the adjacency requires grad (an
 * adjacency that depends on α), dadj = dout·hᵀ (summed over the batch for a shared adjacency).
 * graphReadout(h, mode): [B, n, f] → [B, f], mean (default) or sum over nodes.
 */
import { grid } from '../gpu/gpu-device.js';
import { ShapeError, shapeStr } from '../gpu/errors.js';
import { needsGrad, record } from '../tensor/autograd.js';
import type { Tensor } from '../tensor/tensor.js';
import { register, seededValues, type OpParams } from '../ops/registry.js';

const SHADER = 'gnn.wgsl';
const WG = 64;

interface GraphDims {
  batch: number;
  nodes: number;
  feats: number;
  /** 1: adj is [B, n, n]; 0: one [n, n] for the batch */
  adjBatched: number;
}

type Bind = Record<string, Tensor>;

function run(entry: string, d: GraphDims, bind: Bind, count: number, scale = 1): void {
  const tensors = Object.values(bind);
  const binds: Record<string, { buffer: GPUBuffer; offset: number; size: number }> = {};
  for (const [k, t] of Object.entries(bind)) binds[k] = t.binding;
  tensors[0].dev.dispatch({
    shader: SHADER,
    entry,
    bind: binds,
    params: { batch: d.batch, nodes: d.nodes, feats: d.feats, adj_batched: d.adjBatched, scale },
    workgroups: grid(count, WG),
    shape: `B${d.batch} n${d.nodes} f${d.feats}${d.adjBatched ? '' : ' shared-adj'}`,
  });
}

function nodeDims(op: string, h: Tensor): [number, number, number] {
  if (h.shape.length !== 3 || h.size === 0) throw new ShapeError(`${op}: node features must be a non-empty [B, nodes, features] tensor, got ${shapeStr(h.shape)}`);
  return [h.shape[0], h.shape[1], h.shape[2]];
}

function aggregateDims(adj: Tensor, h: Tensor): GraphDims {
  const [batch, nodes, feats] = nodeDims('graph_aggregate', h);
  const s = adj.shape;
  const ok = (s.length === 3 && s[0] === batch && s[1] === nodes && s[2] === nodes) || (s.length === 2 && s[0] === nodes && s[1] === nodes);
  if (!ok) throw new ShapeError(`graph_aggregate: adjacency ${shapeStr(s)} does not fit node features ${shapeStr(h.shape)}; want [${batch},${nodes},${nodes}] or [${nodes},${nodes}]`);
  return { batch, nodes, feats, adjBatched: s.length === 3 ? 1 : 0 };
}

/** Raw dispatches (no autograd), shared by the ops and the bench records. */
function aggregateForward(adj: Tensor, h: Tensor, d: GraphDims): Tensor {
  const out = h.dev.empty(h.shape);
  run('aggregate_forward', d, { adj, inp: h, out }, out.size);
  return out;
}

function aggregateBackwardInput(adj: Tensor, dout: Tensor, d: GraphDims): Tensor {
  const dinp = dout.dev.empty(dout.shape);
  run('aggregate_backward_input', d, { adj, dout, dinp }, dinp.size);
  return dinp;
}

function aggregateBackwardAdj(h: Tensor, dout: Tensor, adjShape: readonly number[], d: GraphDims): Tensor {
  const dadj = dout.dev.empty(adjShape);
  run('aggregate_backward_adj', d, { inp: h, dout, dadj }, dadj.size);
  return dadj;
}

/** Batched message passing out[b] = adj[b]·h[b] (adj [B,n,n] or shared [n,n], h [B,n,f]) → [B,n,f]. */
export function graphAggregate(adj: Tensor, h: Tensor): Tensor {
  const d = aggregateDims(adj, h);
  const out = aggregateForward(adj, h, d);
  const dev = h.dev;
  const needH = needsGrad(dev, h);
  const needA = needsGrad(dev, adj);
  const saved = [...(needH ? [adj] : []), ...(needA ? [h] : [])];
  return record(out, 'graph_aggregate', [adj, h], saved, (dout) => [
    needA ? aggregateBackwardAdj(h, dout, adj.shape, d) : null,
    needH ? aggregateBackwardInput(adj, dout, d) : null,
  ]);
}

function readoutForward(h: Tensor, d: GraphDims, scale: number): Tensor {
  const out = h.dev.empty([d.batch, d.feats]);
  run('readout_forward', d, { inp: h, out }, out.size, scale);
  return out;
}

function readoutBackward(dout: Tensor, d: GraphDims, scale: number): Tensor {
  const dinp = dout.dev.empty([d.batch, d.nodes, d.feats]);
  run('readout_backward', d, { dout, dinp }, dinp.size, scale);
  return dinp;
}

/** Graph readout [B, n, f] → [B, f]: mean over nodes (default) or sum. */
export function graphReadout(h: Tensor, mode: 'mean' | 'sum' = 'mean'): Tensor {
  const [batch, nodes, feats] = nodeDims('graph_readout', h);
  const d = { batch, nodes, feats, adjBatched: 1 };
  const scale = mode === 'mean' ? 1 / nodes : 1;
  const out = readoutForward(h, d, scale);
  return record(out, `graph_readout_${mode}`, [h], [], (dout) => [readoutBackward(dout, d, scale)]);
}

const dimsOf = (p: OpParams): GraphDims => ({ batch: p.b, nodes: p.n, feats: p.f, adjBatched: 1 });

register({
  name: 'graph_aggregate',
  shader: SHADER,
  passes: ['forward', 'backward_input', 'backward_adj'],
  describe: (p) => `B${p.b} n${p.n} f${p.f}`,
  setup: (dev, p, seed) => {
    const d = dimsOf(p);
    const adj = dev.tensor(seededValues(p.b * p.n * p.n, seed), [p.b, p.n, p.n]);
    const h = dev.tensor(seededValues(p.b * p.n * p.f, seed + 1), [p.b, p.n, p.f]);
    const dout = dev.tensor(seededValues(p.b * p.n * p.f, seed + 2), [p.b, p.n, p.f]);
    return {
      inputs: { adj, h, dout },
      run: {
        forward: () => aggregateForward(adj, h, d),
        backward_input: () => aggregateBackwardInput(adj, dout, d),
        backward_adj: () => aggregateBackwardAdj(h, dout, adj.shape, d),
      },
    };
  },
  flops: (p) => 2 * p.b * p.n * p.n * p.f,
  bytes: (p, pass) => 4 * (pass === 'backward_adj' ? 2 * p.b * p.n * p.f + p.b * p.n * p.n : p.b * p.n * p.n + 2 * p.b * p.n * p.f),
  sweep: [{ b: 64, n: 8, f: 64 }, { b: 256, n: 8, f: 128 }, { b: 32, n: 24, f: 64 }],
});

register({
  name: 'graph_readout',
  shader: SHADER,
  passes: ['forward', 'backward_input'],
  describe: (p) => `B${p.b} n${p.n} f${p.f} mean`,
  setup: (dev, p, seed) => {
    const d = dimsOf(p);
    const h = dev.tensor(seededValues(p.b * p.n * p.f, seed), [p.b, p.n, p.f]);
    const dout = dev.tensor(seededValues(p.b * p.f, seed + 1), [p.b, p.f]);
    return {
      inputs: { h, dout },
      run: {
        forward: () => readoutForward(h, d, 1 / p.n),
        backward_input: () => readoutBackward(dout, d, 1 / p.n),
      },
    };
  },
  flops: (p) => p.b * p.n * p.f,
  bytes: (p) => 4 * (p.b * p.n * p.f + p.b * p.f),
  sweep: [{ b: 64, n: 8, f: 64 }, { b: 256, n: 8, f: 128 }],
});
