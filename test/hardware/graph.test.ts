import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  batchGraphs, encodeGraph, featureNames, NB201_EDGES, NB201_NET, NB201_NODES, NB201_OPS, NB201_VOCAB, nb201EncodeOptions, nb201Graph,
  nb201Instances, nb201OpFlops, nb201RelaxedBasis, nb201RelaxedGraph, nb201Scales, normalizedAdjacency, parseNb201Cell, type LatencySource,
} from '../../src/hardware/graph.js';
import { createLut, lutLatencyMs, setEntry } from '../../src/hardware/lut.js';
import { readMetricTable } from '../../src/hardware/table.js';
import { expectClose, rng, sharedDataset } from '../helpers.js';

const ARCH1 = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';
const F = NB201_VOCAB.length + 5;

describe('NB201 arch strings (minimal parse)', () => {
  it('reads the 6 edge ops in arch-string order', () => {
    expect(parseNb201Cell(ARCH1)).toEqual(['nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_3x3', 'skip_connect']);
    expect(parseNb201Cell('|none~0|+|none~0|none~1|+|none~0|none~1|nor_conv_1x1~2|')[5]).toBe('nor_conv_1x1');
  });

  it('rejects malformed strings with the reason', () => {
    expect(() => parseNb201Cell('|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|')).toThrow(/unknown op "conv"/);
    expect(() => parseNb201Cell('|none~0|+|none~1|none~0|+|none~0|none~1|none~2|')).toThrow(/input 0 of node 2 is "none~1"/);
    expect(() => parseNb201Cell('|none~0|+|none~0|none~1|')).toThrow(/2 nodes, want 3/);
    expect(() => parseNb201Cell('|none~0|+|none~0|+|none~0|none~1|none~2|')).toThrow(/node 2 has 1 inputs, want 2/);
  });
});

describe('adjacency', () => {
  it('D^-1/2 (A+I) D^-1/2 on hand-computed cases, undirected and directed', () => {
    expectClose(normalizedAdjacency(2, [[0, 1]]), [0.5, 0.5, 0.5, 0.5], 1e-7, 0);
    expectClose(normalizedAdjacency(2, [[0, 1]], true), [1, 0, Math.SQRT1_2, 0.5], 1e-7, 0);
    // path 0-1-2: degrees 2, 3, 2
    const s6 = 1 / Math.sqrt(6);
    expectClose(normalizedAdjacency(3, [[0, 1], [1, 2]]), [0.5, s6, 0, s6, 1 / 3, s6, 0, s6, 0.5], 1e-7, 0);
    expect(() => normalizedAdjacency(2, [[0, 2]])).toThrow(/edge 0→2 is outside 0..1/);
  });

  it('NB201 line graph: 8 nodes, 10 data-flow edges, symmetric, rows of Â·D^1/2 sum to D^1/2', () => {
    const g = nb201Graph(ARCH1);
    expect(g.nodes).toHaveLength(NB201_NODES);
    // input→(0→1),(0→2),(0→3); (0→1)→(1→2),(1→3); (0→2),(1→2)→(2→3); (0→3),(1→3),(2→3)→output
    expect([...g.edges].sort()).toEqual([[0, 1], [0, 2], [0, 4], [1, 3], [1, 5], [2, 6], [3, 6], [4, 7], [5, 7], [6, 7]].sort());
    const { adj } = encodeGraph(g, nb201EncodeOptions());
    const deg = [4, 4, 3, 3, 3, 3, 4, 4]; // 1 + neighbours
    for (let i = 0; i < 8; i++) {
      for (let j = 0; j < 8; j++) expect(adj[i * 8 + j]).toBeCloseTo(adj[j * 8 + i], 7);
      const rowSum = deg.reduce((s, d, j) => s + adj[i * 8 + j] * Math.sqrt(d), 0);
      expect(rowSum, `row ${i}`).toBeCloseTo(Math.sqrt(deg[i]), 6);
    }
  });
});

describe('NB201 node features', () => {
  const opts = nb201EncodeOptions();

  it('one-hot op + [channels, spatial, stride, FLOPs, latency], scaled to the network', () => {
    expect(featureNames(NB201_VOCAB)).toHaveLength(F);
    const e = encodeGraph(nb201Graph(ARCH1), opts);
    expect([e.nodes, e.features, e.x.length, e.adj.length]).toEqual([8, F, 8 * F, 64]);
    const row = (i: number) => Array.from(e.x.subarray(i * F, (i + 1) * F));
    const oneHot = (op: string) => NB201_VOCAB.map((v) => (v === op ? 1 : 0));
    const conv3 = NB201_NET.stages * NB201_NET.cellsPerStage * 2 * 9 * 16 * 16 * 32 * 32 / opts.scales.flops; // the same at every stage
    expect(opts.scales).toEqual({ channels: 64, spatial: 32, stride: 2, flops: 15 * 2 * 9 * 16 * 16 * 1024, latencyMs: 1 });
    expect(conv3).toBe(1);
    expect(row(0)).toEqual([...oneHot('input'), 0.25, 1, 0.5, 0, 0]);
    expect(row(1)).toEqual([...oneHot('nor_conv_3x3'), 0.25, 1, 0.5, 1, 0]);
    // avg_pool: 9 adds per output; C·H·W halves at each stage
    expect(row(3)[F - 2]).toBeCloseTo((5 * 9 * 16 * 1024 * (1 + 1 / 2 + 1 / 4)) / opts.scales.flops, 8); // float32
    expect(row(4)).toEqual([...oneHot('skip_connect'), 0.25, 1, 0.5, 0, 0]);
    expect(row(7)).toEqual([...oneHot('output'), 0.25, 1, 0.5, 0, 0]);
  });

  const ARCHS = sharedDataset('nb201_archs.csv');
  it.skipIf(!ARCHS)('conv FLOPs of the edges add up to the NB201 table\'s network FLOPs (needs nb201_archs.csv)', () => {
    // NB201 counts a multiply-add as one FLOP and pooling as none; everything outside the cells is constant
    const t = readMetricTable(ARCHS!, { target: 'cifar10_flops_M' });
    const base = t.rows.find((r) => r.arch === '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|')!.value;
    const r = rng(5);
    for (let k = 0; k < 40; k++) {
      const { arch, value } = t.rows[Math.floor(r() * t.rows.length)];
      const g = nb201Graph(arch);
      let macs = 0;
      for (const node of g.nodes) {
        if (!node.ops[0].startsWith('nor_conv')) continue;
        for (const { shape, count } of node.instances) macs += (count * nb201OpFlops(node.ops[0], shape)) / 2;
      }
      expect((base + macs / 1e6), arch).toBeCloseTo(value, 4);
    }
  });

  it('latency features: Σ over the 15 occurrences of the LUT median, scaled by the slowest op; a gap is an error', () => {
    const lut = createLut({ vendor: 'v', architecture: 'a', description: 'd', device: 'x' });
    const ms: Record<string, number> = { skip_connect: 0.01, nor_conv_1x1: 0.1, nor_conv_3x3: 0.4, avg_pool_3x3: 0.05 };
    for (const { shape } of nb201Instances()) {
      const f = shape.c_in / 16; // latency grows with channels
      for (const [op, v] of Object.entries(ms)) setEntry(lut, op, shape, { medianMs: v * f, p10Ms: v * f, p90Ms: v * f, count: 3 });
    }
    const latency: LatencySource = (op, s) => lutLatencyMs(lut, op, s);
    const o = nb201EncodeOptions(NB201_NET, latency);
    expect(o.scales.latencyMs).toBeCloseTo(5 * 0.4 * (1 + 2 + 4), 12);
    const x = encodeGraph(nb201Graph(ARCH1), o).x;
    expect(x[1 * F + F - 1]).toBeCloseTo(1, 6); // nor_conv_3x3
    expect(x[3 * F + F - 1]).toBeCloseTo(0.05 / 0.4, 6); // avg_pool_3x3
    expect(x[0 * F + F - 1]).toBe(0); // input
    const none = encodeGraph(nb201Graph('|none~0|+|none~0|none~1|+|none~0|none~1|none~2|'), o).x;
    expect(none[1 * F + F - 1]).toBe(0);
    const holey: LatencySource = (op, s) => (op === 'avg_pool_3x3' && s.c_in === 64 ? undefined : latency(op, s));
    expect(() => nb201EncodeOptions(NB201_NET, holey)).toThrow(/no latency for avg_pool_3x3 at .*"c_in":64/);
  });
});

describe('relaxed NB201 encoding', () => {
  const opts = nb201EncodeOptions();

  function randomProbs(seed: number): number[][] {
    const r = rng(seed);
    return NB201_EDGES.map(() => {
      const z = NB201_OPS.map(() => Math.exp(3 * r()));
      const s = z.reduce((a, b) => a + b, 0);
      return z.map((v) => v / s); // softmax of random logits
    });
  }

  it('one-hot probabilities give exactly the discrete encoding', () => {
    const ops = parseNb201Cell(ARCH1);
    const probs = ops.map((op) => NB201_OPS.map((o) => (o === op ? 1 : 0)));
    expect(encodeGraph(nb201RelaxedGraph(probs), opts)).toEqual(encodeGraph(nb201Graph(ARCH1), opts));
  });

  it('features are the probabilities and the expected FLOPs, and equal Σ_k p_k·basis_k', () => {
    const probs = randomProbs(9);
    const e = encodeGraph(nb201RelaxedGraph(probs), opts);
    const conv1 = 15 * 2 * 16 * 16 * 32 * 32; // network FLOPs of one cell op, per candidate
    const pool = 5 * 9 * 16 * 32 * 32 * (1 + 1 / 2 + 1 / 4);
    expect(nb201Scales().flops).toBe(9 * conv1);
    NB201_EDGES.forEach((_, k) => {
      const row = e.x.subarray((k + 1) * F, (k + 2) * F);
      expectClose(row.subarray(2, 7), probs[k], 1e-7, 0, `probabilities edge ${k}`);
      const p = probs[k];
      const flops = (p[2] * conv1 + p[3] * 9 * conv1 + p[4] * pool) / opts.scales.flops;
      expect(row[F - 2]).toBeCloseTo(flops, 6);
    });
    // the basis contraction: P [8, 5] with any distribution on the input/output rows
    const basis = nb201RelaxedBasis(opts);
    expect(basis.length).toBe(NB201_NODES * NB201_OPS.length * F);
    const edgeBasis = (i: number) => Array.from(basis.subarray(i * 5 * F, (i + 1) * 5 * F));
    for (let i = 2; i <= 6; i++) expect(edgeBasis(i), `edge node ${i} shares node 1's basis`).toEqual(edgeBasis(1));
    const P = [[0.3, 0.1, 0.2, 0.2, 0.2], ...probs, [1, 0, 0, 0, 0]];
    const x = new Float64Array(NB201_NODES * F);
    for (let i = 0; i < NB201_NODES; i++) {
      for (let k = 0; k < 5; k++) for (let c = 0; c < F; c++) x[i * F + c] += P[i][k] * basis[(i * 5 + k) * F + c];
    }
    expectClose(e.x, x, 1e-6, 1e-6, 'Σ p·basis');
  });

  it('rejects wrong probability shapes', () => {
    expect(() => nb201RelaxedGraph(randomProbs(1).slice(0, 5))).toThrow(/want 6 edges × 5 op probabilities, got \[5,/);
    expect(() => nb201RelaxedGraph(randomProbs(1).map((p) => p.slice(1)))).toThrow(/op probabilities/);
  });
});

describe('batched graphs', () => {
  it('packs [B, n, f] + [B, n, n] in order and refuses mixed node counts', () => {
    const opts = nb201EncodeOptions();
    const archs = [ARCH1, '|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|', ARCH1];
    const gs = archs.map((a) => encodeGraph(nb201Graph(a), opts));
    const b = batchGraphs(gs);
    expect([b.batch, b.nodes, b.features, b.x.length, b.adj.length]).toEqual([3, 8, F, 3 * 8 * F, 3 * 64]);
    expect(Array.from(b.x.subarray(8 * F, 16 * F))).toEqual(Array.from(gs[1].x));
    expect(Array.from(b.adj.subarray(128))).toEqual(Array.from(gs[2].adj));
    const small = encodeGraph({ nodes: nb201Graph(ARCH1).nodes.slice(0, 3), edges: [[0, 1]] }, opts);
    expect(() => batchGraphs([gs[0], small])).toThrow(/graph 1 is \[3 nodes, 12 features\], graph 0 is \[8, 12\]/);
    expect(() => batchGraphs([])).toThrow(/no graphs/);
  });
});
