// The NAS-Bench-201 table against the NB201 space module: every string round-trips, the analytic
// network costs equal the table's FLOPs/params for all 15,625 cells on all 3 datasets, and the
// isomorphism key reproduces isomorph_rep_idx. Parses the 4 MB CSV once (~0.1 s).
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { Nb201Table, Nb201TableError, defaultNb201CsvPath } from '../../src/nas/nb201-table.js';
import {
  NB201_DATASETS, NB201_PRIMITIVES, type Nb201Arch, formatNb201, nb201IsomorphKey, nb201NetConfig, nb201NetworkCost, parseNb201,
} from '../../src/nas/spaces/nb201.js';
import { SearchSpaceError } from '../../src/nas/spaces/common.js';

const EXAMPLE = '|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|';

// the benchmark table lives in ../shared/datasets beside the repository (or $WGNAS_NB201_CSV)
describe.skipIf(!existsSync(defaultNb201CsvPath()))('Nb201Table', () => {
  let table: Nb201Table;
  let archs: Nb201Arch[];
  beforeAll(() => {
    table = Nb201Table.load();
    archs = Array.from({ length: table.size }, (_, i) => table.arch(i));
  });

  it('loads the 15,625 rows from ../shared/datasets beside the repo', () => {
    expect(defaultNb201CsvPath()).toMatch(/shared[/\\]datasets[/\\]nb201_archs\.csv$/);
    expect(table.size).toBe(15625);
    // row 1 of the CSV, field by field
    const r = table.record(1);
    expect(r.arch).toBe(EXAMPLE);
    expect(r.ops).toEqual(parseNb201(EXAMPLE));
    expect(r.testAcc.cifar10).toBeCloseTo(93.66, 10);
    expect(r.testAcc.cifar100).toBeCloseTo(70.06, 10);
    expect(r.testAcc['ImageNet16-120']).toBeCloseTo(44.26111112128364, 10);
    expect(r.cifar100TestAccV11XTest).toBeCloseTo(70.29333330078126, 10);
    expect(r.paramsM).toEqual({ cifar10: 0.802426, cifar100: 0.808276, 'ImageNet16-120': 0.809576 });
    expect(r.flopsM).toEqual({ cifar10: 113.95137, cifar100: 113.95722, 'ImageNet16-120': 28.49548 });
    expect(r.trainTimeS.cifar10).toBeCloseTo(4339.282751083374, 8);
    expect(r.isomorphRepIdx).toBe(1);
    // best accuracies as listed in PROVENANCE.md
    for (const [d, best] of [['cifar10', 94.37], ['cifar100', 73.5], ['ImageNet16-120', 46.88]] as const) {
      let m = 0;
      for (let i = 0; i < table.size; i++) m = Math.max(m, table.accuracy(i, d));
      expect(Math.abs(m - best), d).toBeLessThan(0.006);
    }
  });

  it('every arch string parses and formats identically, and looks up its own index', () => {
    for (let i = 0; i < table.size; i++) {
      const s = table.archString(i);
      expect(formatNb201(archs[i])).toBe(s);
      expect(table.indexOf(s)).toBe(i);
      expect(table.indexOf(archs[i])).toBe(i);
    }
  });

  it('arch_idx has no closed form: not Σ op·5^e for any edge order and op order', () => {
    const perms = (n: number): number[][] =>
      n === 0 ? [[]] : perms(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
    const ids = archs.slice(0, 4).map((a) => a.map((op) => NB201_PRIMITIVES.indexOf(op)));
    let matches = 0;
    for (const opPerm of perms(5)) {
      for (const edgePerm of perms(6)) {
        if (ids.every((a, i) => edgePerm.reduce((acc, e, k) => acc + opPerm[a[e]] * 5 ** k, 0) === i)) matches++;
      }
    }
    expect(matches).toBe(0);
  });

  it('analytic FLOPs (multiply-adds) and params equal the table for all cells on all 3 datasets', () => {
    // table values are rounded to 1e-5 M FLOPs and 1e-6 M params; the analytic ones are exact integers
    for (const d of NB201_DATASETS) {
      const cfg = nb201NetConfig(d);
      let worstF = 0;
      let worstP = 0;
      for (let i = 0; i < table.size; i++) {
        const c = nb201NetworkCost(archs[i], cfg);
        worstF = Math.max(worstF, Math.abs(c.flops / 1e6 - table.flops(i, d)));
        worstP = Math.max(worstP, Math.abs(c.params / 1e6 - table.params(i, d)));
      }
      expect(worstF, `${d} flops`).toBeLessThan(5e-6);
      expect(worstP, `${d} params`).toBeLessThan(5e-7);
    }
  });

  it('nb201IsomorphKey reproduces the 6,466 isomorphism classes; the representative is the smallest index', () => {
    const classMin = new Map<string, number>();
    archs.forEach((a, i) => {
      const k = nb201IsomorphKey(a);
      if (!classMin.has(k)) classMin.set(k, i);
    });
    expect(classMin.size).toBe(6466);
    const reps = new Set<number>();
    archs.forEach((a, i) => {
      expect(table.isomorphRep(i)).toBe(classMin.get(nb201IsomorphKey(a)));
      reps.add(table.isomorphRep(i));
    });
    expect(reps.size).toBe(6466);
  });

  it('look-ups by index, string (any input order) or arch; errors name the problem', () => {
    expect(table.accuracy(EXAMPLE)).toBe(table.accuracy(1));
    expect(table.params(parseNb201(EXAMPLE), 'cifar100')).toBe(0.808276);
    expect(table.flops(1, 'ImageNet16-120')).toBe(28.49548);
    expect(table.indexOf('|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|skip_connect~0|nor_conv_3x3~1|')).toBe(1);
    expect(() => table.indexOf(EXAMPLE.replace('avg_pool_3x3', 'avgpool'))).toThrow(SearchSpaceError);
    expect(() => table.indexOf(EXAMPLE.replace('avg_pool_3x3', 'avgpool'))).toThrow(/token "avgpool~1"/);
    expect(() => table.record(15625)).toThrow(/0\.\.15624, got 15625/);
    expect(() => table.accuracy(0, 'cifar1000' as never)).toThrow(/unknown NB201 dataset "cifar1000"/);
    let n = 0;
    for (const r of table.records()) if (r.index < 3) n++;
    expect(n).toBe(3);
  });

  it('CSV errors name the file, line and column', () => {
    expect(() => Nb201Table.load('/nonexistent/nb201.csv')).toThrow(Nb201TableError);
    expect(() => Nb201Table.load('/nonexistent/nb201.csv')).toThrow(/not found at \/nonexistent\/nb201\.csv/);
    const path = defaultNb201CsvPath();
    expect(existsSync(path)).toBe(true);
    const text = readFileSync(path, 'utf8');
    const lines = text.split(/\r?\n/).filter((l) => l);
    expect(() => Nb201Table.fromCsv(text.replace('isomorph_rep_idx', 'iso'), 'x.csv')).toThrow(/x\.csv: column "isomorph_rep_idx" missing/);
    expect(() => Nb201Table.fromCsv(lines.slice(0, 100).join('\n'), 'x.csv')).toThrow(/expected 15625 rows, found 99/);
    const broken = [...lines];
    broken[3] = broken[3].replace(/,([0-9.]+),/, ',abc,');
    expect(() => Nb201Table.fromCsv(broken.join('\n'), 'x.csv')).toThrow(/x\.csv line 4: cifar10_test_acc is "abc"/);
    const dup = [...lines];
    dup[3] = dup[3].replace(/^2,/, '1,');
    expect(() => Nb201Table.fromCsv(dup.join('\n'), 'x.csv')).toThrow(/line 4: arch_idx 1 appears twice/);
  });
});
