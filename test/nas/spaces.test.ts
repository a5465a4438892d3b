// Search spaces as typed data: arch strings, genotypes, derivation rules and analytic costs.
// Pure bookkeeping (no GPU). Costs are exact integers, so costs are compared exactly unless stated.
import { describe, expect, it } from 'vitest';
import {
  SearchSpaceError, argmax, expectedOpCost, opCost, opCostTable, softmax,
} from '../../src/nas/spaces/common.js';
import {
  NB201_EDGES, NB201_PRIMITIVES, NB201_SPACE, allNb201Archs, deriveNb201, formatNb201, nb201Arch, nb201Code,
  nb201ExpectedNetworkCost, nb201FromCode, nb201IsomorphKey, nb201NetConfig, nb201NetworkCost, nb201Backbone, parseNb201,
} from '../../src/nas/spaces/nb201.js';
import {
  DARTS_EDGES, DARTS_PRIMITIVES, DARTS_SPACE, DARTS_V1, DARTS_V2, type Genotype,
  deriveDartsGenotype, genotypeFromJson, genotypeToJson, validateGenotype,
} from '../../src/nas/spaces/darts.js';
import { formatGenotype, parseGenotype } from '../../src/nas/spaces/darts-format.js';
import { dartsExpectedNetworkCost, dartsNetConfig, dartsNetworkCost, dartsSearchNetConfig } from '../../src/nas/spaces/darts-network.js';
import {
  MBCONV_CHOICES, MBCONV_SPACE, MOBILENET_V2_SPACE, PROXYLESS_MOBILE_SPACE, TINY_MBCONV_SPACE,
  deriveMbconv, formatMbconv, mbconvBlockCost, mbconvExpectedNetworkCost, mbconvLayers, mbconvNetworkCost,
  mbconvSkipAllowed, parseMbconv,
} from '../../src/nas/spaces/mbconv.js';

/** mulberry32, so random α reproduce (a local copy: test/helpers.ts pulls in the GPU stack). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const randMatrix = (rows: number, cols: number, seed: number): number[][] => {
  const r = rng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => 4 * r() - 2));
};
const oneHot = (n: number, k: number): number[] => Array.from({ length: n }, (_, i) => (i === k ? 1 : 0));

const NB201_EXAMPLE = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

describe('common', () => {
  it('softmax, argmax (first on ties, exclusions)', () => {
    const s = softmax([1, 2, 3, 1000]);
    expect(s.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(s[3]).toBeCloseTo(1, 12);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([9, 3, 3, 2], [0])).toBe(1);
    expect(() => argmax([1], [0])).toThrow(SearchSpaceError);
  });

  it('opCost checks the op and the shape; expectedOpCost = Σ p·cost', () => {
    expect(() => opCost(NB201_SPACE, 'sep_conv_3x3' as never, { C: 4, H: 4, W: 4, stride: 1 })).toThrow(/nb201: unknown op "sep_conv_3x3"/);
    expect(() => opCost(NB201_SPACE, 'nor_conv_3x3', { C: 0, H: 4, W: 4, stride: 1 })).toThrow(/C must be a positive integer/);
    const shape = { C: 16, H: 32, W: 32, stride: 1 };
    const table = opCostTable(NB201_SPACE, shape);
    // ReLU-Conv3×3-BN: activations = ReLU, conv and BN outputs
    expect(table[3]).toEqual({ flops: 16 * 16 * 9 * 1024, params: 16 * 16 * 9 + 32, activations: 3 * 16 * 1024 });
    const p = [0.1, 0.2, 0.3, 0.25, 0.15];
    const e = expectedOpCost(NB201_SPACE, p, shape);
    expect(e.flops).toBeCloseTo(p.reduce((a, pk, k) => a + pk * table[k]!.flops, 0), 6);
    expect(e.params).toBeCloseTo(p.reduce((a, pk, k) => a + pk * table[k]!.params, 0), 9);
    expect(e.activations).toBeCloseTo(p.reduce((a, pk, k) => a + pk * table[k]!.activations, 0), 9);
    expect(() => expectedOpCost(NB201_SPACE, [1, 0], shape)).toThrow(/row of 5 numbers, got length 2/);
  });
});

describe('NAS-Bench-201 space', () => {
  it('primitives and edges in arch-string order', () => {
    expect(NB201_PRIMITIVES).toEqual(['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']);
    expect(NB201_EDGES.map((e) => `${e.from}→${e.to}`)).toEqual(['0→1', '0→2', '1→2', '0→3', '1→3', '2→3']);
  });

  it('parses and formats the official string exactly', () => {
    const a = parseNb201(NB201_EXAMPLE);
    expect(a).toEqual(['nor_conv_3x3', 'nor_conv_3x3', 'avg_pool_3x3', 'skip_connect', 'nor_conv_3x3', 'skip_connect']);
    expect(formatNb201(a)).toBe(NB201_EXAMPLE);
    // inputs listed in another order parse to the same cell; formatting restores the official order
    expect(formatNb201(parseNb201('|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|skip_connect~0|nor_conv_3x3~1|'))).toBe(NB201_EXAMPLE);
  });

  it('errors name the bad token', () => {
    const bad: [string, RegExp][] = [
      [NB201_EXAMPLE.replace('avg_pool_3x3', 'max_pool_3x3'), /token "max_pool_3x3~1" \(node 2\): unknown op "max_pool_3x3"/],
      [NB201_EXAMPLE.replace('skip_connect~2', 'skip_connect~3'), /token "skip_connect~3" \(node 3\): input must be a node 0\.\.2/],
      [NB201_EXAMPLE.replace('avg_pool_3x3~1', 'avg_pool_3x3~0'), /token "avg_pool_3x3~0" \(node 2\): input 0 appears twice/],
      [NB201_EXAMPLE.replace('nor_conv_3x3~1', 'nor_conv_3x3-1'), /token "nor_conv_3x3-1" \(node 3\) must be op~input/],
      ['|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|', /expected 3 nodes separated by "\+", found 2/],
      [NB201_EXAMPLE.slice(1), /node 1 "nor_conv_3x3~0\|" must look like/],
      ['|none~0|+|none~0|+|none~0|none~1|none~2|', /node 2 "\|none~0\|" must have 2 input\(s\)/],
    ];
    for (const [s, re] of bad) {
      expect(() => parseNb201(s), s).toThrow(SearchSpaceError);
      expect(() => parseNb201(s), s).toThrow(re);
    }
    expect(() => nb201Arch(['none'])).toThrow(/expected 6 ops/);
  });

  it('nb201Code enumerates all 15,625 cells once and round-trips', () => {
    const seen = new Set<string>();
    let c = 0;
    for (const a of allNb201Archs()) {
      expect(nb201Code(a)).toBe(c++);
      seen.add(formatNb201(a));
    }
    expect(seen.size).toBe(15625);
    expect(nb201FromCode(5 ** 6 - 1)).toEqual(Array(6).fill('avg_pool_3x3'));
    expect(() => nb201FromCode(15625)).toThrow(/0\.\.15624/);
  });

  it('deriveNb201 = argmax per edge, first on ties; checks the α shape', () => {
    const alpha = [
      [0, 0, 0, 5, 0], // nor_conv_3x3
      [1, 0, 0, 0, 0], // none
      [0.5, 0.5, 0.1, 0.1, 0.1], // tie → the earlier primitive (none)
      [-1, -2, -3, -4, 0], // avg_pool_3x3
      [0, 0, 2, 1, 0], // nor_conv_1x1
      [0, 3, 0, 0, 0], // skip_connect
    ];
    expect(formatNb201(deriveNb201(alpha))).toBe('|nor_conv_3x3~0|+|none~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|');
    expect(() => deriveNb201(alpha.slice(1))).toThrow(/expected 6×5, got 5 rows/);
    expect(() => deriveNb201(alpha.map((r) => r.slice(1)))).toThrow(/row 0 \(expected 6×5\)/);
    expect(() => deriveNb201(alpha.map((r, i) => (i === 2 ? [0, NaN, 0, 0, 0] : r)))).toThrow(/entry 1 is NaN/);
  });

  it('isomorphism key: none kills a path, skip is the identity, sums commute', () => {
    const key = (s: string): string => nb201IsomorphKey(parseNb201(s));
    // node 1 is dead (none), so whatever reads only node 1 is irrelevant
    expect(key('|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|'))
      .toBe(key('|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|nor_conv_3x3~1|skip_connect~2|'));
    // conv on 0→1 then skip 1→3 equals conv 0→3 with a dead node 1 path
    expect(key('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|'))
      .toBe(key('|none~0|+|none~0|none~1|+|nor_conv_3x3~0|none~1|none~2|'));
    expect(key('|nor_conv_3x3~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|'))
      .not.toBe(key('|nor_conv_1x1~0|+|none~0|none~1|+|none~0|skip_connect~1|none~2|'));
  });

  it('op costs by hand (activations: every layer output of the module, per sample)', () => {
    const s = { C: 16, H: 32, W: 32, stride: 1 };
    const hw = 1024;
    const acts = (op: (typeof NB201_PRIMITIVES)[number], shape: Parameters<typeof opCost>[2] = s): number => opCost(NB201_SPACE, op, shape).activations;
    expect(NB201_PRIMITIVES.map((op) => acts(op))).toEqual([0, 0, 3 * 16 * hw, 3 * 16 * hw, 16 * hw]);
    // cases no NB201 cell builds (xautodl's modules): channel change, stride 2
    expect(acts('nor_conv_3x3', { ...s, Cout: 32, stride: 2 })).toBe(16 * hw + 2 * 32 * 256); // ReLU(in), conv, BN
    expect(acts('skip_connect', { ...s, Cout: 32 })).toBe(2 * 32 * hw); // stride 1: Conv1×1, BN
    // stride 2 FactorizedReduce: ReLU + shifted copy (input-sized), 2 halves of 16 channels, concat, BN
    expect(opCost(NB201_SPACE, 'skip_connect', { ...s, Cout: 32, stride: 2 })).toEqual({ flops: 16 * 32 * 256, params: 16 * 32 + 64, activations: 2 * 16 * hw + 3 * 32 * 256 });
    expect(acts('avg_pool_3x3', { ...s, Cout: 32 })).toBe(16 * hw + 3 * 32 * hw); // ReLU, conv, BN, pool
    expect(acts('avg_pool_3x3', { ...s, stride: 2 })).toBe(16 * 256);
  });

  it('network cost: conventions by hand, one-hot expectation, linearity over all cells', () => {
    // all-none cell: only the backbone. stem 3·16·9 conv (+32 BN); reductions 16→32, 32→64; head BN + linear
    const none = nb201Arch(Array(6).fill('none'));
    const cfg = nb201NetConfig('cifar10');
    const stem = { f: 32 * 32 * 27 * 16, p: 27 * 16 + 32, a: 2 * 16 * 1024 };
    // reduction c→2c from h×h: ReLU(in) + 2 conv-BN + ReLU + shortcut pool (c channels) and conv + add
    const red = (c: number, h: number) => ({
      f: h * h * (9 * c * 2 * c + 9 * 4 * c * c + 2 * c * c), p: 9 * c * 2 * c + 9 * 4 * c * c + 2 * c * c + 8 * c,
      a: c * 4 * h * h + 7 * 2 * c * h * h + c * h * h,
    });
    const r1 = red(16, 16);
    const r2 = red(32, 8);
    const head = 2 * 64 * 64 + 64 + 10; // BN, ReLU, GAP, linear
    const sums = 5 * 2 * (16 * 1024 + 32 * 256 + 64 * 64); // nodes 2 and 3 of 5 cells per stage
    expect(nb201NetworkCost(none, cfg)).toEqual({
      flops: stem.f + r1.f + r2.f + 64 * 10 + 10, params: stem.p + r1.p + r2.p + 128 + 650, activations: stem.a + r1.a + r2.a + head + sums,
    });
    // one-hot probabilities reproduce the discrete cost; uniform probabilities give the mean over all cells
    const r = rng(7);
    for (let t = 0; t < 20; t++) {
      const a = nb201FromCode(Math.floor(r() * 15625));
      expect(nb201ExpectedNetworkCost(a.map((op) => oneHot(5, NB201_PRIMITIVES.indexOf(op))), cfg)).toEqual(nb201NetworkCost(a, cfg));
    }
    let mf = 0;
    let mp = 0;
    let ma = 0;
    for (const a of allNb201Archs()) {
      const c = nb201NetworkCost(a, cfg);
      mf += c.flops / 15625;
      mp += c.params / 15625;
      ma += c.activations / 15625;
    }
    const u = nb201ExpectedNetworkCost(Array.from({ length: 6 }, () => Array(5).fill(0.2)), cfg);
    expect(u.flops / mf - 1).toBeLessThan(1e-12);
    expect(Math.abs(u.params / mp - 1)).toBeLessThan(1e-12);
    expect(Math.abs(u.activations / ma - 1)).toBeLessThan(1e-12);
    // odd stage inputs reduce like the conv path (3×3/s2/p1 pool shortcut): 30 → 15 → 8
    expect(nb201Backbone(nb201NetConfig('cifar10', { H: 30, W: 30 })).stages.map((s) => s.H)).toEqual([30, 15, 8]);
  });
});

describe('DARTS space', () => {
  const V2_TEXT =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

  it('primitives and the 14 edges in α-row order', () => {
    expect(DARTS_PRIMITIVES).toEqual(['none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5']);
    expect(DARTS_EDGES.length).toBe(14);
    expect(DARTS_EDGES.map((e) => `${e.from}→${e.to + 2}`).join(' ')).toBe('0→2 1→2 0→3 1→3 2→3 0→4 1→4 2→4 3→4 0→5 1→5 2→5 3→5 4→5');
  });

  it("parses the DARTS repo's DARTS_V2 and prints it back", () => {
    const g = parseGenotype(V2_TEXT);
    expect(g).toEqual(DARTS_V2);
    expect(formatGenotype(g, { concat: 'list' })).toBe(V2_TEXT);
    const printed = formatGenotype(g);
    expect(printed).toBe(V2_TEXT.replace(/concat=\[2, 3, 4, 5\]/g, 'concat=range(2, 6)'));
    expect(parseGenotype(printed)).toEqual(g);
    expect(genotypeFromJson(genotypeToJson(g))).toEqual(g);
    expect(JSON.parse(genotypeToJson(DARTS_V1)).normal[0]).toEqual(['sep_conv_3x3', 1]);
  });

  it('parses genotypes.py-style literals (newlines, double quotes, comments, positional fields, range(stop))', () => {
    const src = `Genotype(
      normal=[("sep_conv_3x3", 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1),  # node 0, 1
              ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2),],
      normal_concat=range(2, 6),
      reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0),
              ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)],
      reduce_concat=[2, 3, 4, 5],
    )`;
    expect(parseGenotype(src)).toEqual(DARTS_V1);
    const positional = `Genotype([('skip_connect', 1), ('dil_conv_5x5', 0)], range(3), [('avg_pool_3x3', 0), ('none', 1)], (2,))`;
    expect(parseGenotype(positional)).toEqual({
      normal: [['skip_connect', 1], ['dil_conv_5x5', 0]], normal_concat: [0, 1, 2], reduce: [['avg_pool_3x3', 0], ['none', 1]], reduce_concat: [2],
    });
  });

  it('genotype errors name the bad part', () => {
    expect(() => parseGenotype(V2_TEXT.replace("('dil_conv_3x3', 2)", "('sep_conv_7x7', 2)"))).toThrow(/normal\[7\]: unknown op "sep_conv_7x7"/);
    expect(() => parseGenotype(V2_TEXT.replace("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)"))).toThrow(/normal\[7\] = \["dil_conv_3x3",5\]: input of intermediate node 3 must be a state 0\.\.4/);
    expect(() => parseGenotype(V2_TEXT.replace('normal_concat', 'normal_cat'))).toThrow(/expected one of normal, normal_concat, reduce, reduce_concat at \d+, found "normal_cat"/);
    expect(() => parseGenotype(V2_TEXT.replace(", reduce_concat=[2, 3, 4, 5]", ''))).toThrow(/field reduce_concat missing/);
    expect(() => parseGenotype(V2_TEXT.replace("('skip_connect', 0), ('dil", "('skip_connect' 0), ('dil"))).toThrow(/expected "\)" at \d+, found "0"/);
    expect(() => parseGenotype(V2_TEXT + ' x')).toThrow(/expected the end/);
    expect(() => parseGenotype('Genotype(normal=[(\'sep_conv_3x3\', 0)] @')).toThrow(/unexpected character "@"/);
    expect(() => genotypeFromJson('{"normal": [["none", 0]]}')).toThrow(/normal must be a non-empty list of an even number/);
    expect(() => validateGenotype({ ...DARTS_V2, reduce_concat: [2, 2] })).toThrow(/reduce_concat lists state 2 twice/);
    expect(() => validateGenotype({ ...DARTS_V2, extra: 1 })).toThrow(/unknown field "extra"/);
  });

  /** α that encodes a genotype: kept edges get the op's logit (strongest first), 'none' is large everywhere. */
  function alphaFor(genes: Genotype['normal']): number[][] {
    const alpha = DARTS_EDGES.map(() => [8, 0, 0, 0, 0, 0, 0, 0]);
    genes.forEach(([op, input], i) => {
      const node = Math.floor(i / 2);
      const e = DARTS_EDGES.findIndex((x) => x.to === node && x.from === input);
      alpha[e][DARTS_PRIMITIVES.indexOf(op)] = i % 2 === 0 ? 5 : 4;
    });
    return alpha;
  }

  it('deriveDartsGenotype: top-2 edges by strongest non-none softmax weight, op = argmax without none', () => {
    expect(deriveDartsGenotype(alphaFor(DARTS_V2.normal), alphaFor(DARTS_V2.reduce))).toEqual(DARTS_V2);
    expect(deriveDartsGenotype(alphaFor(DARTS_V1.normal), alphaFor(DARTS_V1.reduce))).toEqual(DARTS_V1);
    // softmax vs raw ranking differ: edge 0→2 has one strong op; edge 1→2 has a larger raw max but shares its mass
    const a = randMatrix(14, 8, 3).map((r) => r.map((v) => v - 10));
    a[0] = [0, 0, 0, 0, 3, 0, 0, 0];
    a[1] = [0, 3.4, 3.4, 3.4, 3.5, 3.4, 3.4, 3.4];
    expect(deriveDartsGenotype(a, a).normal[0]).toEqual(['sep_conv_3x3', 0]);
    expect(deriveDartsGenotype(a, a, { softmax: false }).normal[0]).toEqual(['sep_conv_3x3', 1]);
    // ties: equal strengths keep the lower input first; node 0 always keeps both inputs
    const tie = DARTS_EDGES.map(() => [0, 1, 1, 0, 0, 0, 0, 0]);
    const g = deriveDartsGenotype(tie, tie);
    expect(g.normal).toEqual([['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1], ['max_pool_3x3', 0], ['max_pool_3x3', 1]]);
    // random α: every node keeps 2 distinct earlier states, never 'none'
    const rg = deriveDartsGenotype(randMatrix(14, 8, 11), randMatrix(14, 8, 12), { multiplier: 3 });
    expect(rg.normal_concat).toEqual([3, 4, 5]);
    for (let n = 0; n < 4; n++) {
      const [x, y] = [rg.normal[2 * n], rg.normal[2 * n + 1]];
      expect(x[1]).not.toBe(y[1]);
      expect(x[0]).not.toBe('none');
    }
    expect(() => deriveDartsGenotype(a.slice(1), a)).toThrow(/alphaNormal: expected 14×8, got 13 rows/);
  });

  it('op costs by hand', () => {
    const s1 = { C: 16, H: 32, W: 32, stride: 1 };
    const s2 = { ...s1, stride: 2 };
    // activations: a DilConv is ReLU (input-sized) + depthwise + pointwise + BN; SepConv two of them
    const inp = 16 * 1024;
    const out2 = 16 * 256;
    expect(opCost(DARTS_SPACE, 'sep_conv_3x3', s1)).toEqual({ flops: 2 * 1024 * (16 * 9 + 256), params: 2 * (16 * 9 + 256 + 32), activations: 8 * inp });
    expect(opCost(DARTS_SPACE, 'sep_conv_5x5', s2)).toEqual({ flops: 2 * 256 * (16 * 25 + 256), params: 2 * (16 * 25 + 256 + 32), activations: inp + 7 * out2 });
    expect(opCost(DARTS_SPACE, 'dil_conv_3x3', s2)).toEqual({ flops: 256 * (16 * 9 + 256), params: 16 * 9 + 256 + 32, activations: inp + 3 * out2 });
    expect(opCost(DARTS_SPACE, 'dil_conv_5x5', s1).activations).toBe(4 * inp);
    expect(opCost(DARTS_SPACE, 'skip_connect', s1)).toEqual({ flops: 0, params: 0, activations: 0 });
    // FactorizedReduce: ReLU + shifted copy (input-sized), two 8-channel halves, concat, BN
    expect(opCost(DARTS_SPACE, 'skip_connect', s2)).toEqual({ flops: 256 * 16 * 16, params: 256 + 32, activations: 2 * inp + 3 * out2 });
    expect(opCost(DARTS_SPACE, 'skip_connect', { ...s2, affine: false })).toEqual({ flops: 256 * 16 * 16, params: 256, activations: 2 * inp + 3 * out2 });
    // max pooling keeps an output-sized arg-max beside its output
    expect(opCost(DARTS_SPACE, 'max_pool_3x3', s2)).toEqual({ flops: 0, params: 0, activations: 2 * out2 });
    expect(opCost(DARTS_SPACE, 'avg_pool_3x3', s2)).toEqual({ flops: 0, params: 0, activations: out2 });
    expect(opCost(DARTS_SPACE, 'avg_pool_3x3', s1).activations).toBe(inp);
    expect(opCost(DARTS_SPACE, 'none', s2).activations).toBe(0);
    // odd sizes: the shifted half is zero-padded back (shiftCrop), both halves ⌈31/2⌉ = 16 rows
    expect(opCost(DARTS_SPACE, 'skip_connect', { ...s2, H: 31 })).toEqual({ flops: 256 * 16 * 16, params: 256 + 32, activations: 2 * 16 * 31 * 32 + 3 * out2 });
    expect(() => opCost(DARTS_SPACE, 'skip_connect', { ...s2, C: 15 })).toThrow(/FactorizedReduce needs even output channels/);
    expect(() => opCost(DARTS_SPACE, 'sep_conv_3x3', { ...s1, Cout: 32 })).toThrow(/keep the channel count/);
    expect(opCostTable(DARTS_SPACE, { ...s2, C: 15 })[3]).toBeNull();
  });

  it('DARTS_V2 network (C=36, 20 cells, CIFAR-10) has the published 3.349342 M params and 528.36 M multiply-adds', () => {
    const c = dartsNetworkCost(DARTS_V2, dartsNetConfig());
    expect(c.params).toBe(3_349_342);
    expect(c.flops).toBe(528_359_050);
  });

  it('expected network cost: kept edges one-hot reproduce the genotype; linear in the probabilities', () => {
    const probs = (genes: Genotype['normal']): number[][] => {
      const p = DARTS_EDGES.map(() => Array(8).fill(0));
      genes.forEach(([op, input], i) => {
        p[DARTS_EDGES.findIndex((x) => x.to === Math.floor(i / 2) && x.from === input)][DARTS_PRIMITIVES.indexOf(op)] = 1;
      });
      return p;
    };
    for (const cfg of [dartsNetConfig(), dartsSearchNetConfig()]) {
      expect(dartsExpectedNetworkCost(probs(DARTS_V2.normal), probs(DARTS_V2.reduce), cfg)).toEqual(dartsNetworkCost(DARTS_V2, cfg));
    }
    const pa = randMatrix(14, 8, 5).map(softmax);
    const pb = randMatrix(14, 8, 6).map(softmax);
    const mix = pa.map((r, e) => r.map((v, k) => 0.3 * v + 0.7 * pb[e][k]));
    const ca = dartsExpectedNetworkCost(pa, pa);
    const cb = dartsExpectedNetworkCost(pb, pb);
    const cm = dartsExpectedNetworkCost(mix, mix);
    expect(cm.flops / (0.3 * ca.flops + 0.7 * cb.flops)).toBeCloseTo(1, 12);
    expect(cm.params / (0.3 * ca.params + 0.7 * cb.params)).toBeCloseTo(1, 12);
    expect(cm.activations / (0.3 * ca.activations + 0.7 * cb.activations)).toBeCloseTo(1, 12);
  });
});

describe('MBConv chain space', () => {
  it('choices, layers and where skip is allowed', () => {
    expect(MBCONV_CHOICES).toEqual(['k3e3', 'k3e6', 'k5e3', 'k5e6', 'k7e3', 'k7e6', 'skip']);
    const skip = mbconvSkipAllowed(PROXYLESS_MOBILE_SPACE);
    expect(skip.length).toBe(21);
    // the first layer of every stage strides or changes channels; the single 320-channel layer too
    expect(skip.map((s) => (s ? 1 : 0)).join('')).toBe('011101110111011101110');
    const layers = mbconvLayers(PROXYLESS_MOBILE_SPACE, { H: 224, W: 224 });
    expect(layers.map((l) => l.H).filter((_, i) => [0, 4, 8, 12, 16, 20].includes(i))).toEqual([112, 56, 28, 14, 14, 7]);
    expect(layers[4]).toMatchObject({ stage: 1, Cin: 24, Cout: 40, stride: 2, skipAllowed: false });
    // resolution comes from the input, not the space
    expect(mbconvLayers(TINY_MBCONV_SPACE, { H: 28, W: 28 }).map((l) => `${l.H}:${l.stride}`).join(' ')).toBe('28:1 28:1 28:2 14:1 14:1 14:2 7:1 7:1');
  });

  it('string form round-trips; errors name the token or the layer', () => {
    const s = 'k3e6-k5e3-skip-k7e6-k3e3-k5e6-skip-skip';
    expect(formatMbconv(parseMbconv(s))).toBe(s);
    expect(formatMbconv(parseMbconv('k3e3-skip-k5e6-k7e3-skip-k3e6-k3e6-skip', TINY_MBCONV_SPACE))).toBe('k3e3-skip-k5e6-k7e3-skip-k3e6-k3e6-skip');
    expect(() => parseMbconv('k3e6-k4e6')).toThrow(/layer 1 token "k4e6" is not one of k3e3/);
    expect(() => parseMbconv('')).toThrow(/bad MBConv arch string ""/);
    expect(() => parseMbconv('k3e6-k3e6', TINY_MBCONV_SPACE)).toThrow(/has 8 searchable layers, the arch has 2/);
    expect(() => parseMbconv('k3e3-skip-skip-k7e3-skip-k3e6-k3e6-skip', TINY_MBCONV_SPACE)).toThrow(/layer 2 of space "tiny-mbconv" cannot be skip/);
  });

  it('deriveMbconv = argmax per layer with skip masked where not allowed', () => {
    const alpha = Array.from({ length: 8 }, () => [0, 0, 0, 0, 0, 0, 9]);
    alpha[2][3] = 1; // layer 2 strides: skip masked → k5e6
    alpha[5][1] = 1; // layer 5 strides: skip masked → k3e6
    alpha[0] = [0, 0, 0, 0, 0, 2, 1]; // k7e6 beats skip
    expect(formatMbconv(deriveMbconv(alpha, TINY_MBCONV_SPACE))).toBe('k7e6-skip-k5e6-skip-skip-k3e6-skip-skip');
    expect(() => deriveMbconv(alpha.slice(1), TINY_MBCONV_SPACE)).toThrow(/expected 8×7, got 7 rows/);
  });

  it('costs: a block by hand; MobileNetV2 (all k3e6) = 3,504,872 params, 300.78 M multiply-adds at 224×224', () => {
    // 16→24, k5, e3, stride 2 on 8×8: expand 64·16·48, depthwise 16·48·25, project 16·48·24; BN 2·48 + 2·48 + 2·24
    // activations: expand conv-BN-ReLU6 (48×8×8 each), depthwise conv-BN-ReLU6 (48×4×4), project conv-BN (24×4×4)
    expect(mbconvBlockCost(16, 24, 5, 3, 2, 8, 8)).toEqual({ flops: 49152 + 19200 + 18432, params: 768 + 1200 + 1152 + 96 + 96 + 48, activations: 3 * 3072 + 3 * 768 + 2 * 384 });
    // stride 1, Cin = Cout: the residual add's output too; e = 1: no expand
    expect(mbconvBlockCost(16, 16, 3, 6, 1, 8, 8).activations).toBe(3 * 96 * 64 + 3 * 96 * 64 + 2 * 16 * 64 + 16 * 64);
    expect(mbconvBlockCost(32, 16, 3, 1, 1, 8, 8).activations).toBe(3 * 32 * 64 + 2 * 16 * 64);
    expect(opCost(MBCONV_SPACE, 'k5e3', { C: 16, Cout: 24, H: 8, W: 8, stride: 2 })).toEqual(mbconvBlockCost(16, 24, 5, 3, 2, 8, 8));
    const v2 = Array(16).fill('k3e6');
    const c = mbconvNetworkCost(v2, MOBILENET_V2_SPACE, { H: 224, W: 224 });
    expect(c.params).toBe(3_504_872); // torchvision mobilenet_v2
    expect(c.flops).toBe(300_775_272); // "300M multiply-adds" (MobileNetV2 paper)
  });

  it('skip: zero cost where allowed, refused elsewhere; expected cost one-hot = discrete', () => {
    const shape = { C: 24, Cout: 40, H: 14, W: 14, stride: 2 };
    expect(opCostTable(MBCONV_SPACE, shape)[6]).toBeNull();
    expect(() => opCost(MBCONV_SPACE, 'skip', shape)).toThrow(/skip needs stride 1 and Cout = C/);
    expect(() => expectedOpCost(MBCONV_SPACE, [0, 0, 0, 0, 0, 0.5, 0.5], shape)).toThrow(/skip needs stride 1/);
    expect(opCost(MBCONV_SPACE, 'skip', { C: 24, H: 14, W: 14, stride: 1 })).toEqual({ flops: 0, params: 0, activations: 0 });
    const arch = parseMbconv('k3e3-skip-k5e6-k7e3-skip-k3e6-k3e6-skip', TINY_MBCONV_SPACE);
    const onehot = arch.map((ch) => oneHot(7, MBCONV_CHOICES.indexOf(ch)));
    expect(mbconvExpectedNetworkCost(onehot, TINY_MBCONV_SPACE, { H: 28, W: 28 })).toEqual(mbconvNetworkCost(arch, TINY_MBCONV_SPACE, { H: 28, W: 28 }));
    const bad = onehot.map((r) => [...r]);
    bad[2] = oneHot(7, 6);
    expect(() => mbconvExpectedNetworkCost(bad, TINY_MBCONV_SPACE, { H: 28, W: 28 })).toThrow(/layer 2 of "tiny-mbconv" cannot be skip/);
  });
});
