/**
 * Measured metric tables from other devices (e.g. HW-NAS-Bench: arch string → latency/energy on six edge
 * devices), read from CSV so a latency predictor can be trained for hardware that is not attached.
 *
 * `readMetricTable` keeps the rows whose target value is a finite number >= 0; blank cells, text and
 * negative values (HW-NAS-Bench writes -1.0 where a device has no measurement) are skipped and counted.
 * `splitTable` shuffles with a seeded generator, so a train/test split reproduces from its seed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { WgnasError } from '../gpu/errors.js';
import { seededRandom } from '../tensor/host-random.js';

export interface MetricRow {
  arch: string;
  value: number;
}

export interface MetricTable {
  /** kept rows, in file order */
  rows: MetricRow[];
  /** rows left out (blank + nonNumeric + negative) */
  skipped: number;
  skippedBy: { blank: number; nonNumeric: number; negative: number };
  /** every column of the header, in order */
  columns: string[];
  target: string;
  path: string;
}

export interface ReadTableOptions {
  /** column holding the architecture (default 'arch_str', the NB201 cell string) */
  archColumn?: string;
  /** column holding the metric to read, e.g. 'edgegpu_latency' */
  target: string;
}

/** The device metrics of hwnasbench_nb201_cifar10.csv (see datasets PROVENANCE.md). */
export const HWNASBENCH_TARGETS = [
  'edgegpu_latency', 'edgegpu_energy', 'raspi4_latency', 'edgetpu_latency', 'pixel3_latency',
  'eyeriss_latency', 'eyeriss_energy', 'eyeriss_arithmetic_intensity', 'fpga_latency', 'fpga_energy',
] as const;

/**
 * Parses CSV text (RFC 4180: fields may be quoted; "" inside quotes is a quote; quoted fields may hold
 * commas and newlines; CRLF or LF line ends). Returns the records, empty lines dropped.
 */
export function parseCsv(text: string, where = 'csv'): string[][] {
  const records: string[][] = [];
  const field = /"((?:[^"]|"")*)"|([^,\r\n"]*)/y;
  const lineAt = (pos: number): number => text.slice(0, pos).split('\n').length;
  let pos = text.charCodeAt(0) === 0xfeff ? 1 : 0; // byte-order mark
  let record: string[] = [];
  while (pos < text.length) {
    field.lastIndex = pos;
    const m = field.exec(text)!; // always matches (the unquoted branch may be empty)
    if (m[1] === undefined && text[field.lastIndex] === '"') {
      if (m[2] === '') throw new WgnasError(`${where}: unterminated quoted field starting on line ${lineAt(pos)}`);
      throw new WgnasError(`${where}:${lineAt(pos)}: quote inside an unquoted field`);
    }
    record.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]);
    pos = field.lastIndex;
    const ch = text[pos];
    if (ch === ',') {
      pos++;
      if (pos === text.length) record.push('');
      continue;
    }
    if (ch !== undefined && ch !== '\n' && ch !== '\r') throw new WgnasError(`${where}:${lineAt(pos)}: text after a closing quote`);
    pos += ch === '\r' && text[pos + 1] === '\n' ? 2 : 1;
    if (!(record.length === 1 && record[0] === '')) records.push(record); // empty lines dropped
    record = [];
  }
  if (record.length) records.push(record);
  return records;
}

/** Reads one metric column of a CSV table as { arch, value } rows (see the module comment for skips). */
export function readMetricTable(path: string, { archColumn = 'arch_str', target }: ReadTableOptions): MetricTable {
  if (!existsSync(path)) throw new WgnasError(`readMetricTable: file not found: ${path}`);
  const records = parseCsv(readFileSync(path, 'utf8'), path);
  if (records.length === 0) throw new WgnasError(`readMetricTable: ${path} is empty (no header line)`);
  const columns = records[0].map((c) => c.trim());
  const col = (name: string, role: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new WgnasError(`readMetricTable: ${path} has no ${role} column "${name}"; columns present: ${columns.join(', ')}`);
    return i;
  };
  const ai = col(archColumn, 'architecture');
  const ti = col(target, 'target');
  const rows: MetricRow[] = [];
  const skippedBy = { blank: 0, nonNumeric: 0, negative: 0 };
  for (let r = 1; r < records.length; r++) {
    const rec = records[r];
    if (rec.length !== columns.length) {
      throw new WgnasError(`readMetricTable: ${path} record ${r + 1} has ${rec.length} fields, the header has ${columns.length}`);
    }
    const arch = rec[ai].trim();
    const cell = rec[ti].trim();
    if (arch === '') throw new WgnasError(`readMetricTable: ${path} record ${r + 1} has a blank "${archColumn}"`);
    if (cell === '') {
      skippedBy.blank++;
      continue;
    }
    const value = Number(cell);
    if (!Number.isFinite(value)) skippedBy.nonNumeric++;
    else if (value < 0) skippedBy.negative++;
    else rows.push({ arch, value });
  }
  const skipped = skippedBy.blank + skippedBy.nonNumeric + skippedBy.negative;
  return { rows, skipped, skippedBy, columns, target, path };
}

/** A seeded permutation of 0..n-1 (Fisher–Yates). */
export function seededPermutation(n: number, seed: number): number[] {
  const r = seededRandom(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Shuffles rows with `seed` and returns the first `nTrain` as train, the rest as test. */
export function splitTable<T>(rows: readonly T[], nTrain: number, seed: number): { train: T[]; test: T[] } {
  if (!Number.isInteger(nTrain) || nTrain < 0 || nTrain > rows.length) {
    throw new WgnasError(`splitTable: nTrain must be an integer in 0..${rows.length} (the row count), got ${nTrain}`);
  }
  const perm = seededPermutation(rows.length, seed);
  return { train: perm.slice(0, nTrain).map((i) => rows[i]), test: perm.slice(nTrain).map((i) => rows[i]) };
}
