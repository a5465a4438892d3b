/**
 * The NAS-Bench-201 / NATS-Bench TSS table (datasets/PROVENANCE.md in the shared folder): for each of
 * the 15,625 cells, its benchmark index (arch_idx), test accuracies on CIFAR-10 / CIFAR-100 /
 * ImageNet16-120, params and FLOPs of its network on each, training times, and the representative
 * index of its isomorphism class. Look-ups take an index, an arch string or a parsed arch.
 *
 * The benchmark index has no closed form (it is the benchmark's file order; see nb201.ts), so the
 * table is the only way between indices and cells. FLOPs are multiply-adds in millions, params in
 * millions; both equal nb201NetworkCost(arch, nb201NetConfig(dataset)) / 1e6.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WgnasError } from '../gpu/errors.js';
import { NB201_DATASETS, NB201_NUM_ARCHS, type Nb201Arch, type Nb201Dataset, formatNb201, parseNb201 } from './spaces/nb201.js';

/** The CSV is missing, malformed, or a look-up names no row. */
export class Nb201TableError extends WgnasError {}

export type Nb201Key = number | string | Nb201Arch;

export interface Nb201Record {
  index: number;
  arch: string;
  ops: Nb201Arch;
  /** 200-epoch test accuracy (%), mean over seeds */
  testAcc: Record<Nb201Dataset, number>;
  /** NAS-Bench-201 v1_1 CIFAR-100 accuracy on half the test set (%) */
  cifar100TestAccV11XTest: number;
  trainTimeS: Record<Nb201Dataset, number>;
  /** millions of parameters */
  paramsM: Record<Nb201Dataset, number>;
  /** millions of multiply-adds */
  flopsM: Record<Nb201Dataset, number>;
  isomorphRepIdx: number;
}

const perDataset = (suffix: string): string[] => NB201_DATASETS.map((d) => `${d}_${suffix}`);
const NUMERIC_COLUMNS = [
  ...perDataset('test_acc'), 'cifar100_test_acc_nb201v11_xtest', ...perDataset('train_time_s'),
  ...perDataset('params_M'), ...perDataset('flops_M'), 'isomorph_rep_idx',
];

/** Where the table lives by default: $WGNAS_NB201_CSV, else ../shared/datasets/nb201_archs.csv beside the package root. */
export function defaultNb201CsvPath(): string {
  if (process.env.WGNAS_NB201_CSV) return resolve(process.env.WGNAS_NB201_CSV);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return resolve(dir, '..', 'shared', 'datasets', 'nb201_archs.csv');
    dir = dirname(dir);
  }
  throw new Nb201TableError(`cannot find the package root above ${fileURLToPath(import.meta.url)}; pass the CSV path to Nb201Table.load(path)`);
}

export class Nb201Table {
  private readonly indexByArch = new Map<string, number>();

  private constructor(
    private readonly archs: string[],
    /** column name → values by arch_idx */
    private readonly columns: Map<string, Float64Array>,
    readonly source: string,
  ) {
    archs.forEach((a, i) => this.indexByArch.set(a, i));
  }

  /** Reads the CSV (default: defaultNb201CsvPath()). */
  static load(path: string = defaultNb201CsvPath()): Nb201Table {
    if (!existsSync(path)) {
      throw new Nb201TableError(`NAS-Bench-201 table not found at ${path}; pass its path to Nb201Table.load(path) or set WGNAS_NB201_CSV`);
    }
    return Nb201Table.fromCsv(readFileSync(path, 'utf8'), path);
  }

  /** Parses the CSV text; columns are found by header name; every index 0..15624 must appear once. */
  static fromCsv(text: string, source = '<csv>'): Nb201Table {
    const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
    const header = (lines[0] ?? '').split(',');
    const col = (name: string): number => {
      const i = header.indexOf(name);
      if (i < 0) throw new Nb201TableError(`${source}: column "${name}" missing (header: ${header.join(',')})`);
      return i;
    };
    const idxCol = col('arch_idx');
    const strCol = col('arch_str');
    const numCols = NUMERIC_COLUMNS.map((name) => [name, col(name)] as const);
    const n = lines.length - 1;
    if (n !== NB201_NUM_ARCHS) throw new Nb201TableError(`${source}: expected ${NB201_NUM_ARCHS} rows, found ${n}`);
    const archs: string[] = new Array(n);
    const columns = new Map(numCols.map(([name]) => [name, new Float64Array(n)]));
    for (let r = 1; r <= n; r++) {
      const cells = lines[r].split(',');
      if (cells.length !== header.length) throw new Nb201TableError(`${source} line ${r + 1}: ${cells.length} fields, header has ${header.length}`);
      const idx = Number(cells[idxCol]);
      if (!Number.isInteger(idx) || idx < 0 || idx >= n) throw new Nb201TableError(`${source} line ${r + 1}: bad arch_idx "${cells[idxCol]}"`);
      if (archs[idx] !== undefined) throw new Nb201TableError(`${source} line ${r + 1}: arch_idx ${idx} appears twice`);
      archs[idx] = cells[strCol];
      for (const [name, c] of numCols) {
        const v = Number(cells[c]);
        if (cells[c] === '' || !Number.isFinite(v)) throw new Nb201TableError(`${source} line ${r + 1}: ${name} is "${cells[c]}", not a number`);
        columns.get(name)![idx] = v;
      }
    }
    return new Nb201Table(archs, columns, source);
  }

  get size(): number {
    return this.archs.length;
  }

  /** The benchmark index of a cell (an index is checked and returned). */
  indexOf(key: Nb201Key): number {
    if (typeof key === 'number') {
      if (!Number.isInteger(key) || key < 0 || key >= this.size) throw new Nb201TableError(`NB201 index must be an integer in 0..${this.size - 1}, got ${key}`);
      return key;
    }
    const str = typeof key === 'string' ? key : formatNb201(key);
    const hit = this.indexByArch.get(str);
    if (hit !== undefined) return hit;
    const canonical = formatNb201(parseNb201(str)); // throws, naming the bad token, on a malformed string
    const again = this.indexByArch.get(canonical);
    if (again === undefined) throw new Nb201TableError(`${this.source}: no row for arch "${canonical}"`);
    return again;
  }

  archString(key: Nb201Key): string {
    return this.archs[this.indexOf(key)];
  }

  arch(key: Nb201Key): Nb201Arch {
    return parseNb201(this.archString(key));
  }

  /** Test accuracy (%) of the cell's network trained 200 epochs on `dataset`. */
  accuracy(key: Nb201Key, dataset: Nb201Dataset = 'cifar10'): number {
    return this.value(key, `${checkDataset(dataset)}_test_acc`);
  }

  /** Parameters of the network for `dataset`, in millions. */
  params(key: Nb201Key, dataset: Nb201Dataset = 'cifar10'): number {
    return this.value(key, `${checkDataset(dataset)}_params_M`);
  }

  /** Multiply-adds of one forward pass for `dataset`, in millions (NB201's "FLOPs"). */
  flops(key: Nb201Key, dataset: Nb201Dataset = 'cifar10'): number {
    return this.value(key, `${checkDataset(dataset)}_flops_M`);
  }

  trainTimeS(key: Nb201Key, dataset: Nb201Dataset = 'cifar10'): number {
    return this.value(key, `${checkDataset(dataset)}_train_time_s`);
  }

  /** The index representing the cell's isomorphism class (the smallest index in the class). */
  isomorphRep(key: Nb201Key): number {
    return this.value(key, 'isomorph_rep_idx');
  }

  record(key: Nb201Key): Nb201Record {
    const index = this.indexOf(key);
    const by = (suffix: string): Record<Nb201Dataset, number> =>
      Object.fromEntries(NB201_DATASETS.map((d) => [d, this.value(index, `${d}_${suffix}`)])) as Record<Nb201Dataset, number>;
    return {
      index,
      arch: this.archs[index],
      ops: parseNb201(this.archs[index]),
      testAcc: by('test_acc'),
      cifar100TestAccV11XTest: this.value(index, 'cifar100_test_acc_nb201v11_xtest'),
      trainTimeS: by('train_time_s'),
      paramsM: by('params_M'),
      flopsM: by('flops_M'),
      isomorphRepIdx: this.value(index, 'isomorph_rep_idx'),
    };
  }

  *records(): Generator<Nb201Record> {
    for (let i = 0; i < this.size; i++) yield this.record(i);
  }

  private value(key: Nb201Key, column: string): number {
    return this.columns.get(column)![this.indexOf(key)];
  }
}

function checkDataset(d: string): Nb201Dataset {
  if (!(NB201_DATASETS as readonly string[]).includes(d)) throw new Nb201TableError(`unknown NB201 dataset "${d}"; expected one of ${NB201_DATASETS.join(', ')}`);
  return d as Nb201Dataset;
}
