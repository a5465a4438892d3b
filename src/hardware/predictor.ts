/**
 * GNN latency predictor (BRP-NAS style): an architecture graph (graph.ts) → a few graph-convolution
 * layers → a readout over the nodes → an MLP head → one number, the NORMALISED latency. All tensor math
 * runs on the GPU through the ops (graphAggregate, linear, relu, add), batched over graphs.
 *
 *   H0 = node features X [B, n, F]                    (graph.ts encoding: op one-hot + scaled numerics)
 *   H_{l+1} = relu(Σ_d Â_d · H_l · W_{l,d}ᵀ + b_l [+ Pos, l = 0])     l = 0 .. layers−1
 *   g = readout(H_L)  [B, hidden]                     (sum over nodes by default)
 *   z = W_o · relu(W_h · g + b_h) + b_o   [B, 1]      (the head)
 * adjacency 'undirected': one Â (the symmetric D^-1/2 (A+I) D^-1/2, the plain GCN H' = relu(Â·H·W + b));
 * adjacency 'both' (default): Â_f along data flow and Â_b against it, each with its own W, so a node
 * tells what feeds it from what it feeds. Pos (option `position`) is a learned embedding per node index
 * (NB201 graphs have fixed node positions: node i+1 is always edge i of the cell). The adjacencies are
 * the same [n, n] for every NB201 architecture (ops do not change the data flow) and are buffers.
 *
 * Why this form (HW-NAS-Bench, N = 1000 train archs, Spearman on the held-out rest; see the report of
 * `wgnas predictor`): the plain undirected GCN reached 0.960 on edgegpu_latency, where the SAME op
 * costs differently on different edges (a linear model of op counts gets 0.81, of per-edge ops 0.97):
 * the symmetric Â makes mirror-image edges hard to tell apart. Both directions: 0.987; + position 0.989.
 *
 * Target normalisation (fitted on the training set, saved with the weights):
 *   transform 'linear' (default): z = (latency − mean) / std; latency = std·z + mean (one `scale` op);
 *   transform 'log':    z = (ln latency − mean) / std; latency = exp(std·z + mean).
 * 'linear' won on every metric we measured (raspi4/pixel3/edgegpu, N = 100 and 1000: log lost 0.004–0.016
 * Spearman and also within-10%), and it keeps the latency an affine function of the network output, so
 * the differentiable latency is a chain of existing ops. 'log' predictions are de-normalised on read-back
 * (evaluation only; predictLatencyRelaxed rejects a 'log' predictor: there is no exp op).
 * Node features need no further normalisation: graph.ts already scales every numeric column by a fixed,
 * architecture-independent constant (so the relaxed features stay linear in P).
 *
 * Spaces (space-graph.ts): nb201 (α [6, 5], the NAS-Bench-201 network), darts (α [28, 8]) and mbconv
 * (α [L, 7]) on the network config `net` the table was measured on; config.space and config.net fix the
 * nodes, features, adjacency and relaxed map, and are saved with the weights.
 *
 * Differentiable in α: softmax(α) = P [rows, cols] → relaxed node features x = Wr·vec(P) + br (ONE
 * linear: Wr holds the space's relaxed basis, br the fixed rows of the input/output nodes; for a one-hot
 * P it equals the discrete encoding) → the GNN → std·z + mean. backward gives ∂latency/∂α.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../gpu/atomic-file.js';
import { z } from 'zod';
import { WgnasError, ShapeError, shapeStr } from '../gpu/errors.js';
import { add, relu, scale } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import { softmax } from '../ops/softmax.js';
import { Module, kaimingUniform, seededRandom, type ModuleConfig } from '../nn/module.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import { graphAggregate, graphReadout } from './gnn-ops.js';
import { encodeGraph, normalizedAdjacency, NUMERIC_FEATURES, type EncodeOptions } from './graph.js';
import {
  nb201SpaceGraphs, PREDICTOR_SPACES, spaceGraphs, spaceRelaxedMap, type PredictorSpace, type RelaxedMap, type SpaceGraphs, type SpaceNet,
} from './space-graph.js';

export type TargetTransform = 'linear' | 'log';

/** How targets were normalised: z = (t(latency) − mean) / std with t = identity or ln. */
export interface TargetNorm {
  transform: TargetTransform;
  mean: number;
  std: number;
}

export interface PredictorConfig {
  /** search space of the graphs (fixes nodes, features, adjacency, relaxed basis) */
  space: PredictorSpace;
  /** darts, mbconv: the network the table was measured on (absent for nb201: NB201_NET) */
  net?: SpaceNet;
  /**
   * message passing: 'undirected' H' = relu(Â·H·W + b) with the symmetric Â; 'both' (directed, both
   * ways) H' = relu(Â_f·H·W_f + Â_b·H·W_b + b) with Â_f along data flow and Â_b against it, so a node
   * tells what feeds it from what it feeds
   */
  adjacency: 'undirected' | 'both';
  /** add a learned embedding of the node's position (its index in the space's graph) in the first layer */
  position: boolean;
  /** graph-convolution layers */
  layers: number;
  /** width of every graph-convolution layer */
  hidden: number;
  /** width of the head's hidden layer */
  headHidden: number;
  readout: 'mean' | 'sum';
  /** seed of the initial weights */
  seed: number;
  norm: TargetNorm;
}

export const DEFAULT_PREDICTOR: Omit<PredictorConfig, 'norm' | 'seed'> = {
  space: 'nb201', adjacency: 'both', position: true, layers: 4, hidden: 32, headHidden: 32, readout: 'sum',
};

/** The graphs of a predictor's space and network (no latency source: tables from other devices have none). */
export function predictorGraphs(cfg: Pick<PredictorConfig, 'space' | 'net'>): SpaceGraphs {
  return spaceGraphs(cfg.space, cfg.net);
}

/** The graph encoding of a predictor's space. */
export function spaceEncoding(cfg: Pick<PredictorConfig, 'space' | 'net'>): EncodeOptions {
  return predictorGraphs(cfg).enc;
}

/** Node features [n·F] of one arch string of the graphs' space. */
export function encodeArch(arch: string, graphs: SpaceGraphs): Float32Array {
  return encodeGraph(graphs.graph(arch), graphs.enc).x;
}

/**
 * The relaxed map of NB201 as a linear layer: x [n·F] = weight [n·F, E·K] · vec(P) + bias, vec(P) = the
 * 6×5 probabilities row by row (edge-major); space-graph.ts spaceRelaxedMap for every space.
 */
export function nb201RelaxedMap(enc: EncodeOptions): RelaxedMap {
  return spaceRelaxedMap(nb201SpaceGraphs(), enc);
}

interface Dense {
  weight: Tensor;
  bias: Tensor | null;
}

export class GnnPredictor extends Module {
  readonly nodes: number;
  readonly features: number;
  readonly enc: EncodeOptions;
  /** the space's graphs at the predictor's network */
  readonly graphs: SpaceGraphs;
  /** one adjacency per message direction: [Â] (undirected) or [Â_f, Â_b] */
  readonly adjs: Tensor[];
  /** per layer, one dense map per direction (the first carries the bias) */
  private readonly conv: Dense[][] = [];
  private readonly pos?: Tensor;
  private readonly head: Dense[] = [];
  private relaxed?: { weight: Tensor; bias: Tensor };

  constructor(dev: Device, readonly cfg: PredictorConfig) {
    super(dev);
    for (const k of ['layers', 'hidden', 'headHidden'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 1) throw new WgnasError(`GnnPredictor: ${k} must be a positive integer, got ${cfg[k]}`);
    }
    if (cfg.adjacency !== 'undirected' && cfg.adjacency !== 'both') throw new WgnasError(`GnnPredictor: adjacency must be 'undirected' or 'both', got ${String(cfg.adjacency)}`);
    if (!(cfg.norm.std > 0) || !Number.isFinite(cfg.norm.mean)) throw new WgnasError(`GnnPredictor: target normalisation needs a finite mean and std > 0, got ${JSON.stringify(cfg.norm)}`);
    this.graphs = predictorGraphs(cfg);
    this.enc = this.graphs.enc;
    const n = (this.nodes = this.graphs.nodes);
    this.features = this.enc.vocab.length + NUMERIC_FEATURES.length;
    const edges = this.graphs.edges;
    const reversed = edges.map(([a, b]) => [b, a] as const);
    this.adjs = cfg.adjacency === 'undirected'
      ? [this.addBuffer('adj', normalizedAdjacency(n, edges, false), [n, n])]
      : [this.addBuffer('adj_fwd', normalizedAdjacency(n, edges, true), [n, n]), this.addBuffer('adj_bwd', normalizedAdjacency(n, reversed, true), [n, n])];
    const rand = seededRandom(cfg.seed);
    const dense = (name: string, fin: number, fout: number, withBias = true, fanIn = fin): Dense => ({
      weight: this.addParam(`${name}.weight`, kaimingUniform(fout * fin, fanIn, rand), [fout, fin]),
      bias: withBias ? this.addParam(`${name}.bias`, kaimingUniform(fout, fanIn, rand), [fout]) : null,
    });
    let width = this.features;
    const dirs = this.adjs.length;
    for (let l = 0; l < cfg.layers; l++) {
      this.conv.push(this.adjs.map((_, d) => dense(`conv${l}${dirs > 1 ? `.${['fwd', 'bwd'][d]}` : ''}`, width, cfg.hidden, d === 0, dirs * width)));
      width = cfg.hidden;
    }
    if (cfg.position) this.pos = this.addParam('position', kaimingUniform(cfg.hidden * n, n, rand), [cfg.hidden, n]);
    this.head.push(dense('head0', width, cfg.headHidden), dense('head1', cfg.headHidden, 1));
  }

  /** The node-index one-hots [B·n, n] that select each row's position embedding (a constant input, owned by the current scope). */
  private positionInput(B: number): Tensor {
    const n = this.nodes;
    const data = new Float32Array(B * n * n);
    for (let r = 0; r < B * n; r++) data[r * n + (r % n)] = 1;
    return this.dev.tensor(data, [B * n, n], { label: 'position-onehot' });
  }

  /** Node features [B, n, F] → normalised prediction z [B, 1]. */
  forward(x: Tensor): Tensor {
    const [n, F] = [this.nodes, this.features];
    if (x.shape.length !== 3 || x.shape[1] !== n || x.shape[2] !== F) {
      throw new ShapeError(`gnn_predictor: node features must be [B, ${n}, ${F}], got ${shapeStr(x.shape)}`);
    }
    const B = x.shape[0];
    let h = x;
    this.conv.forEach((maps, l) => {
      const fin = h.shape[2];
      let pre: Tensor | undefined;
      maps.forEach((m, d) => {
        const agg = reshape(graphAggregate(this.adjs[d], h), [B * n, fin]); // Â_d·H
        const y = linear(agg, m.weight, m.bias);
        pre = pre ? add(pre, y) : y;
      });
      if (l === 0 && this.pos) pre = add(pre!, linear(this.positionInput(B), this.pos));
      h = reshape(relu(pre!), [B, n, this.cfg.hidden]);
    });
    let g = graphReadout(h, this.cfg.readout);
    g = relu(linear(g, this.head[0].weight, this.head[0].bias));
    return linear(g, this.head[1].weight, this.head[1].bias);
  }

  /**
   * Stops gradients at the predictor's weights (a search uses it as a fixed function of α: backward then
   * reaches α only, and no weight gradients are computed or accumulated). unfreeze() undoes it.
   */
  freeze(): this {
    for (const p of this.parameters()) p.requiresGrad = false;
    return this;
  }

  unfreeze(): this {
    for (const p of this.parameters()) p.requiresGrad = true;
    return this;
  }

  /** z → latency (ms) on the GPU, differentiable; 'linear' normalisation only (see the module comment). */
  denormalize(z: Tensor): Tensor {
    const { transform, mean, std } = this.cfg.norm;
    if (transform !== 'linear') throw new WgnasError(`gnn_predictor: a differentiable latency needs transform 'linear'; this predictor was trained with '${transform}'`);
    return scale(z, std, mean);
  }

  /** z read back → latency (ms) for evaluation (applies exp for 'log'). */
  denormalizeHost(z: ArrayLike<number>): Float64Array {
    const { transform, mean, std } = this.cfg.norm;
    const out = new Float64Array(z.length);
    for (let i = 0; i < z.length; i++) out[i] = transform === 'log' ? Math.exp(std * z[i] + mean) : std * z[i] + mean;
    return out;
  }

  /** The relaxed map of the space as GPU tensors (made on first use; not trained, not saved). */
  relaxedMap(): { weight: Tensor; bias: Tensor } {
    if (!this.relaxed) {
      const m = spaceRelaxedMap(this.graphs);
      this.relaxed = {
        weight: this.dev.tensor(m.weight, [m.rows, m.cols], { persistent: true, label: 'relaxed-map.weight' }),
        bias: this.dev.tensor(m.bias, [m.rows], { persistent: true, label: 'relaxed-map.bias' }),
      };
    }
    return this.relaxed;
  }

  config(): ModuleConfig {
    return { type: 'GnnPredictor', ...this.cfg };
  }

  override dispose(): void {
    super.dispose();
    this.relaxed?.weight.dispose();
    this.relaxed?.bias.dispose();
    this.relaxed = undefined;
  }
}

const ROWS_ARE: Record<PredictorSpace, string> = {
  nb201: 'cell edges × ops', darts: 'normal- then reduction-cell edges × ops', mbconv: 'searchable layers × choices',
};

/**
 * Predicted latency (ms) [1] of a relaxed architecture from its op probabilities P [rows, cols] in the
 * space's α layout (nb201 [6, 5]: edges in arch-string order × NB201 ops; darts [28, 8]: the normal
 * cell's 14 edges then the reduction cell's × DARTS_PRIMITIVES; mbconv [L, 7]: layers × MBCONV_CHOICES;
 * e.g. a sampler's weights). Differentiable in P.
 */
export function predictLatencyFromProbs(predictor: GnnPredictor, probs: Tensor): Tensor {
  const { rows, cols, space } = predictor.graphs;
  if (probs.size !== rows * cols) throw new ShapeError(`predict_latency (${space}): probabilities must be [${rows}, ${cols}] (${ROWS_ARE[space]}), got ${shapeStr(probs.shape)}`);
  const map = predictor.relaxedMap();
  const x = linear(reshape(probs, [1, rows * cols]), map.weight, map.bias); // [1, n·F]
  const z = predictor.forward(reshape(x, [1, predictor.nodes, predictor.features]));
  return reshape(predictor.denormalize(z), [1]);
}

/**
 * Predicted latency (ms) [1] of the relaxed architecture softmax(α), α [rows, cols] in the space's layout
 * (predictLatencyFromProbs; MBConv rows may carry the search's large negative bias on 'skip' where a layer
 * cannot skip); backward gives ∂latency/∂α. This is the function a search calls once per step
 * (κ·latency in the loss); freeze() the predictor once before the search so that backward stops at α.
 */
export function predictLatencyRelaxed(predictor: GnnPredictor, alpha: Tensor): Tensor {
  const { rows, cols, space } = predictor.graphs;
  if (alpha.size !== rows * cols) throw new ShapeError(`predict_latency (${space}): α must be [${rows}, ${cols}] (${ROWS_ARE[space]}), got ${shapeStr(alpha.shape)}`);
  return predictLatencyFromProbs(predictor, softmax(reshape(alpha, [rows, cols])));
}

// ---------------------------------------------------------------------------------------------------
// Saving and loading (JSON: config + normalisation + weights; written atomically)
// ---------------------------------------------------------------------------------------------------

export const PREDICTOR_FORMAT = 'wgnas-gnn-latency-predictor';

const tensorSchema = z.object({ shape: z.array(z.number().int().nonnegative()), data: z.array(z.number()) });
const positive = z.number().int().positive();
const netSchema = z.object({ C: positive, N: positive, inChannels: positive, H: positive, W: positive, classes: positive, stemStride: positive, batch: positive });
const fileSchema = z.object({
  format: z.literal(PREDICTOR_FORMAT),
  version: z.literal(1),
  config: z.object({
    space: z.enum(PREDICTOR_SPACES),
    /** darts, mbconv (files from before these spaces have none: nb201) */
    net: netSchema.optional(),
    adjacency: z.enum(['undirected', 'both']),
    position: z.boolean(),
    layers: z.number().int().positive(),
    hidden: z.number().int().positive(),
    headHidden: z.number().int().positive(),
    readout: z.enum(['mean', 'sum']),
    seed: z.number().int(),
    norm: z.object({ transform: z.enum(['linear', 'log']), mean: z.number(), std: z.number().positive() }),
  }),
  /** free-form provenance: table, target column, split, training options, metrics */
  meta: z.record(z.string(), z.unknown()).default({}),
  tensors: z.record(z.string(), tensorSchema),
});

export type PredictorFile = z.infer<typeof fileSchema>;

/** Saves weights, normalisation and config (a sync point: the weights are read back). */
export async function savePredictor(path: string, pred: GnnPredictor, meta: Record<string, unknown> = {}): Promise<void> {
  const tensors: PredictorFile['tensors'] = {};
  for (const [k, v] of Object.entries(await pred.stateDict())) tensors[k] = { shape: v.shape, data: Array.from(v.data) };
  const file: PredictorFile = { format: PREDICTOR_FORMAT, version: 1, config: pred.cfg, meta, tensors };
  writeFileAtomic(path, JSON.stringify(file));
}

/** Loads a predictor saved by savePredictor onto `dev`. */
export function loadPredictor(dev: Device, path: string): { predictor: GnnPredictor; meta: Record<string, unknown> } {
  if (!existsSync(path)) throw new WgnasError(`loadPredictor: file not found: ${path}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new WgnasError(`loadPredictor: ${path} is not JSON: ${(e as Error).message}`);
  }
  const r = fileSchema.safeParse(raw);
  if (!r.success) {
    const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new WgnasError(`loadPredictor: ${path} is not a saved GNN latency predictor (${issues})`);
  }
  const { space, net } = r.data.config;
  if ((space === 'nb201') !== (net === undefined)) {
    throw new WgnasError(`loadPredictor: ${path}: a ${space} predictor ${space === 'nb201' ? 'takes no' : 'needs its'} network config (config.net)`);
  }
  const predictor = new GnnPredictor(dev, r.data.config);
  const state: Record<string, { shape: number[]; data: Float32Array }> = {};
  for (const [k, v] of Object.entries(r.data.tensors)) state[k] = { shape: v.shape, data: Float32Array.from(v.data) };
  try {
    predictor.loadStateDict(state);
  } catch (e) {
    predictor.dispose();
    throw new WgnasError(`loadPredictor: ${path}: ${(e as Error).message}`);
  }
  return { predictor, meta: r.data.meta };
}
