import { describe, expect, it } from 'vitest';
import { dartsEdgeInstances, dartsEdgeOps, DARTS_GRAPH_NODES, DARTS_GRAPH_VOCAB } from '../../src/hardware/graph-darts.js';
import { MBCONV_GRAPH_VOCAB } from '../../src/hardware/graph-mbconv.js';
import { encodeGraph, NUMERIC_FEATURES, type ArchGraph } from '../../src/hardware/graph.js';
import { createLut, setEntry } from '../../src/hardware/lut.js';
import { lutLatencySource, spaceGraphs, spaceRelaxedBasis, type SpaceGraphs, type SpaceNet } from '../../src/hardware/space-graph.js';
import { sampleSpaceArchs, spaceArchString } from '../../src/hardware/space-lut.js';
import { mbconvLayerShapes } from '../../src/hardware/space-lut-plan.js';
import { dartsBinding, mbconvBinding, type NetKnobs, type SpaceBinding } from '../../src/nas/space-binding.js';
import { DARTS_EDGES, DARTS_V2 } from '../../src/nas/spaces/darts.js';
import { formatGenotype, parseGenotype } from '../../src/nas/spaces/darts-format.js';
import { MBCONV_CHOICES, parseMbconv } from '../../src/nas/spaces/mbconv.js';
import { expectClose, randomProbs } from '../helpers.js';

/** The search's default network (C=8, N=1, Fashion-MNIST 1×28×28, stem stride 2), batch 1. */
const NET: SpaceNet = { C: 8, N: 1, inChannels: 1, H: 28, W: 28, classes: 10, stemStride: 2, batch: 1 };
const KNOBS: NetKnobs = { C: 8, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };

function archStrings(space: 'darts' | 'mbconv', k: number, seed: number, net = NET): string[] {
  const cfg = { ...net, space };
  return sampleSpaceArchs(cfg, k, seed).map((a) => spaceArchString(cfg, a));
}


function oneHot(rows: number, cols: number, col: (r: number) => number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, k) => (k === col(r) ? 1 : 0)));
}

/** Σ over the op nodes of the FLOPs feature, in FLOPs (a multiply-add counts 2). */
function graphFlops(g: SpaceGraphs, graph: ArchGraph): number {
  const F = g.enc.vocab.length + NUMERIC_FEATURES.length;
  const x = encodeGraph(graph, g.enc).x;
  let total = 0;
  for (let i = 0; i < g.nodes; i++) total += x[i * F + F - 2] * g.enc.scales.flops;
  return total;
}

/** Multiply-adds of the searchable ops of a child network, from the search's binding (spaces/*.ts costs). */
function bindingOpMacs(b: SpaceBinding, archStr: string): number {
  const arch = b.space === 'darts' ? parseGenotype(archStr) : [...parseMbconv(archStr)];
  return b.cost({ arch, archStr }).flops - b.fixedCost('flops');
}

/** Relaxed-encoding checks shared by both spaces: one-hot = discrete, features linear in P. */
function relaxedChecks(g: SpaceGraphs, archs: readonly string[], opsOf: (arch: string) => readonly string[]): void {
  const F = g.enc.vocab.length + NUMERIC_FEATURES.length;
  for (const arch of archs) {
    const ops = opsOf(arch);
    const P = oneHot(g.rows, g.cols, (r) => g.primitives.indexOf(ops[r]));
    expect(encodeGraph(g.relaxedGraph(P), g.enc), arch).toEqual(encodeGraph(g.graph(arch), g.enc));
  }
  // basis_k = the features when every row is candidate k; then x(P) row r+1 = Σ_k P[r][k]·basis_k row r+1
  const basis = Array.from({ length: g.cols }, (_, k) => encodeGraph(g.relaxedGraph(oneHot(g.rows, g.cols, () => k)), g.enc).x);
  const P = randomProbs(17, g.rows, g.cols);
  const want = new Float64Array(g.nodes * F);
  for (let i = 0; i < g.nodes; i++) {
    for (let c = 0; c < F; c++) {
      if (i === 0 || i === g.nodes - 1) want[i * F + c] = basis[0][i * F + c];
      else for (let k = 0; k < g.cols; k++) want[i * F + c] += P[i - 1][k] * basis[k][i * F + c];
    }
  }
  const got = encodeGraph(g.relaxedGraph(P), g.enc).x;
  expectClose(got, want, 1e-6, 1e-6, `${g.space}: relaxed features vs Σ p·basis`);
  // the predictor's basis [n, K, F] gives the same contraction
  const sb = spaceRelaxedBasis(g);
  const viaSb = new Float64Array(g.nodes * F);
  const Pn = [new Array<number>(g.cols).fill(1 / g.cols), ...P, [1, ...new Array<number>(g.cols - 1).fill(0)]];
  for (let i = 0; i < g.nodes; i++) for (let k = 0; k < g.cols; k++) for (let c = 0; c < F; c++) viaSb[i * F + c] += Pn[i][k] * sb[(i * g.cols + k) * F + c];
  expectClose(got, viaSb, 1e-6, 1e-6, `${g.space}: spaceRelaxedBasis contraction`);
}

describe('DARTS graphs', () => {
  const g = spaceGraphs('darts', NET);
  const F = DARTS_GRAPH_VOCAB.length + 5;

  it('30 nodes: input, 14 normal-cell edges, 14 reduction-cell edges, output; data flow as documented', () => {
    expect([g.nodes, g.rows, g.cols, F]).toEqual([30, 28, 8, 15]);
    const graph = g.graph(formatGenotype(DARTS_V2));
    expect(graph.nodes).toHaveLength(DARTS_GRAPH_NODES);
    // per cell 16 line-graph edges; input → 8 input-reading normal edges; 14 normal → 8 reduction inputs; 14 → output
    expect(graph.edges).toHaveLength(2 * 16 + 8 + 14 * 8 + 14);
    const has = (a: number, b: number): boolean => graph.edges.some(([x, y]) => x === a && y === b);
    // normal row 0 (state 0 → node 0 = state 2) feeds rows 4, 7, 11 (the edges leaving state 2)
    expect([has(0, 1), has(1, 5), has(1, 8), has(1, 12), has(1, 2)]).toEqual([true, true, true, true, false]);
    // the last normal edge (state 4 → node 3) feeds only the reduction cell's input-reading rows
    const from14 = graph.edges.filter(([a]) => a === 14).map(([, b]) => b).sort((a, b) => a - b);
    expect(from14).toEqual(DARTS_EDGES.flatMap((e, i) => (e.from < 2 ? [15 + i] : [])));
    expect(graph.edges.filter(([, b]) => b === 29).map(([a]) => a).sort((a, b) => a - b)).toEqual(Array.from({ length: 14 }, (_, i) => 15 + i));
    expect(has(0, 15)).toBe(false);
  });

  it('a genotype keeps 16 edges; the others are none nodes', () => {
    const ops = dartsEdgeOps(formatGenotype(DARTS_V2));
    expect(ops.filter((o) => o !== 'none')).toHaveLength(16);
    // DARTS_V2 normal node 1 = sep_conv_3x3 from 0 and 1 → rows 2, 3, row 4 (from 2) none; reduce node 3 = skip_connect from 2 and max_pool_3x3 from 1
    expect([ops[2], ops[3], ops[4], ops[14 + 11], ops[14 + 10]]).toEqual(['sep_conv_3x3', 'sep_conv_3x3', 'none', 'skip_connect', 'max_pool_3x3']);
    const e = encodeGraph(g.graph(formatGenotype(DARTS_V2)), g.enc);
    const row = (i: number) => Array.from(e.x.subarray(i * F, (i + 1) * F));
    expect(row(5).slice(0, 10)).toEqual(DARTS_GRAPH_VOCAB.map((v) => (v === 'none' ? 1 : 0)));
    expect(row(5)[F - 2]).toBe(0);
    // first cell of each type: normal C=8 at 14×14 stride 1; reduction C=16 reading 14×14 with stride 2
    const { channels, spatial } = g.enc.scales;
    expect([channels, spatial]).toEqual([32, 14]); // of the op nodes: the last normal cell's C = 4·8; the stem's output
    expect(row(1).slice(10, 13)).toEqual([8 / 32, 1, 0.5]);
    expect(row(15).slice(10, 13)).toEqual([16 / 32, 1, 1]);
    expect(row(0).slice(10, 13)).toEqual([1 / 32, 2, 1]); // input: 1×28×28, stem stride 2
    expect(row(29).slice(10, 13)).toEqual([4, Math.fround(4 / 14), 0.5]); // output: the head reads 4·32 channels of 4×4
  });

  it('the FLOPs feature is the analytic per-op FLOPs summed over every cell of the type', () => {
    // a normal-cell sep_conv_3x3 runs at C=8 14×14, C=16 7×7, C=32 4×4: 2 × (depthwise 9·C·H·W + pointwise C²·H·W) MACs each
    const sep3 = [[8, 14], [16, 7], [32, 4]].reduce((a, [c, h]) => a + 2 * 2 * (9 * c * h * h + c * c * h * h), 0);
    const e = encodeGraph(g.graph(formatGenotype(DARTS_V2)), g.enc);
    expect(e.x[1 * F + F - 2] * g.enc.scales.flops).toBeCloseTo(sep3, 0);
    // every node against the search binding's network cost (darts-network.ts walks the cells itself);
    // N = 2: two normal cells per stage at one shape, merged into one instance of count 2
    for (const N of [1, 2]) {
      const gN = spaceGraphs('darts', { ...NET, N });
      const binding = dartsBinding(undefined as never, { ...KNOBS, N });
      for (const arch of [formatGenotype(DARTS_V2), ...archStrings('darts', 4, 3, { ...NET, N })]) {
        const want = 2 * bindingOpMacs(binding, arch);
        expect(want).toBeGreaterThan(0);
        expect(graphFlops(gN, gN.graph(arch)) / want, `N=${N} ${arch}`).toBeCloseTo(1, 6);
      }
    }
    expect(dartsEdgeInstances({ ...NET, N: 2 })[0].map((i) => [i.shape.c_in, i.shape.h, i.count])).toEqual([[8, 14, 2], [16, 7, 2], [32, 4, 2]]);
  });

  it('one-hot probabilities give the discrete encoding; relaxed features are linear in P', () => {
    relaxedChecks(g, archStrings('darts', 3, 5), dartsEdgeOps);
  });

  it('rejects what the graph cannot hold, naming it', () => {
    const v2 = formatGenotype(DARTS_V2);
    expect(() => g.graph(v2.replace("('sep_conv_3x3', 1)", "('sep_conv_3x3', 0)"))).toThrow(/node 0 of the normal cell reads state 0 twice/);
    expect(() => g.graph(v2.replace('reduce_concat=range(2, 6)', 'reduce_concat=[4, 5]'))).toThrow(/reduction cell concatenates states \[4, 5\]/);
    expect(() => g.graph('k3e3-k3e6')).toThrow(/bad DARTS genotype string/);
    expect(() => g.relaxedGraph(randomProbs(1, 14, 8))).toThrow(/want 28 rows × 8 op probabilities/);
    expect(() => spaceGraphs('darts')).toThrow(/darts graphs need the network config/);
    expect(() => spaceGraphs('nb201', NET)).toThrow(/a network config applies to darts and mbconv/);
  });
});

describe('MBConv graphs', () => {
  const g = spaceGraphs('mbconv', NET);
  const F = MBCONV_GRAPH_VOCAB.length + 5;
  // the chain at C=8, N=1: stages of 2 layers, 8 → 12 → 20 channels, strides 1, 2, 2; skip not allowed on layers 2 and 4
  const ARCH = 'k3e3-skip-k5e6-k7e3-k3e6-skip';

  it('a chain: input, one node per searchable layer, output', () => {
    expect([g.nodes, g.rows, g.cols, F]).toEqual([8, 6, 7, 14]);
    const graph = g.graph(ARCH);
    expect(graph.edges).toEqual([[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 6], [6, 7]]);
    const e = encodeGraph(graph, g.enc);
    const row = (i: number) => Array.from(e.x.subarray(i * F, (i + 1) * F));
    expect(row(2).slice(0, 9)).toEqual(MBCONV_GRAPH_VOCAB.map((v) => (v === 'skip' ? 1 : 0))); // a skip layer is a node
    expect(row(2)[F - 2]).toBe(0);
    expect([g.enc.scales.channels, g.enc.scales.spatial]).toEqual([20, 14]); // largest layer input: 20 channels (layer 5), 14×14 (layer 0)
    expect(row(3).slice(9, 12)).toEqual([Math.fround(8 / 20), 1, 1]); // layer 2: 8 → 12 channels, 14×14, stride 2
  });

  it('the FLOPs feature is the analytic per-layer FLOPs', () => {
    // layer 2, k5e6 on 8×14×14, stride 2 → 12×7×7: expand 14²·8·48, depthwise 7²·25·48, project 7²·48·12 MACs
    const k5e6 = 2 * (14 * 14 * 8 * 48 + 7 * 7 * 25 * 48 + 7 * 7 * 48 * 12);
    const e = encodeGraph(g.graph(ARCH), g.enc);
    expect(e.x[3 * F + F - 2] * g.enc.scales.flops).toBeCloseTo(k5e6, 0);
    const binding = mbconvBinding(undefined as never, KNOBS);
    for (const arch of [ARCH, ...archStrings('mbconv', 4, 3)]) {
      expect(graphFlops(g, g.graph(arch)) / (2 * bindingOpMacs(binding, arch)), arch).toBeCloseTo(1, 6);
    }
    // batch 4: 4× the FLOPs, so the same scaled features
    const g4 = spaceGraphs('mbconv', { ...NET, batch: 4 });
    expect(g4.enc.scales.flops).toBe(4 * g.enc.scales.flops);
    expect(encodeGraph(g4.graph(ARCH), g4.enc).x).toEqual(e.x);
  });

  it('one-hot probabilities give the discrete encoding; relaxed features are linear in P, masked skip included', () => {
    relaxedChecks(g, [ARCH, ...archStrings('mbconv', 3, 5)], (a) => a.split('-'));
    // the search's masked α: softmax puts ~0 (here exactly 0, or a little) on skip where a layer cannot skip
    const skip = MBCONV_CHOICES.indexOf('skip');
    const P = randomProbs(4, 6, 7).map((p, l) => (l === 2 || l === 4 ? p.map((v, k) => (k === skip ? (l === 2 ? 0 : 1e-30) : v)) : p));
    expect(() => encodeGraph(g.relaxedGraph(P), g.enc)).not.toThrow();
  });

  it('rejects architectures of another network or space, naming the layer', () => {
    expect(() => g.graph('k3e3-skip-skip-k7e3-k3e6-skip')).toThrow(/layer 2 of space "mbconv-c8-n1" cannot be skip/);
    expect(() => g.graph('k3e3-k3e3')).toThrow(/has 6 searchable layers, the arch has 2/);
    expect(() => g.graph('k3e3-k3e3-k3e3-k3e3-k9e3-k3e3')).toThrow(/layer 4 token "k9e3"/);
  });

  it('latency features from a LUT of the network: mbconv_e<e>|…|k=<k> keys, skip 0 ms, a gap named', () => {
    const lut = createLut({ vendor: 'v', architecture: 'a', description: 'd', device: 'x' });
    const cfg = { ...NET, space: 'mbconv' as const };
    // ms grows with kernel, expansion, output channels and stride (layers 0 and 1 share one shape, so one key)
    const ms = (kernel: number, e: number, s: { c_out: number; stride: number }): number => 0.001 * kernel * e * s.c_out * s.stride;
    const shapes = mbconvLayerShapes(cfg);
    for (const shape of shapes) {
      for (const kernel of [3, 5, 7]) {
        for (const e of [3, 6]) {
          const v = ms(kernel, e, shape);
          setEntry(lut, `mbconv_e${e}`, { ...shape, kernel }, { medianMs: v, p10Ms: v, p90Ms: v, count: 3 });
        }
      }
    }
    const gl = spaceGraphs('mbconv', NET, lutLatencySource(lut, 'mbconv'));
    expect(gl.enc.scales.latencyMs).toBeCloseTo(Math.max(...shapes.map((s) => ms(7, 6, s))), 9);
    const x = encodeGraph(gl.graph(ARCH), gl.enc).x;
    expect(x[1 * F + F - 1]).toBeCloseTo(ms(3, 3, shapes[0]) / gl.enc.scales.latencyMs, 6); // layer 0 k3e3
    expect(x[2 * F + F - 1]).toBe(0); // skip
    expect(x[3 * F + F - 1]).toBeCloseTo(ms(5, 6, shapes[2]) / gl.enc.scales.latencyMs, 6); // layer 2 k5e6
    const partial = createLut(lut.adapter);
    expect(() => spaceGraphs('mbconv', NET, lutLatencySource(partial, 'mbconv'))).toThrow(/no latency for k3e3 at/);
  });
});
