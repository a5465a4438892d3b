import { sharedDataset } from '../helpers.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HWNASBENCH_TARGETS, parseCsv, readMetricTable, splitTable } from '../../src/hardware/table.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnas-table-'));
function csvFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** The HW-NAS-Bench table: in the repo's datasets/ if the lead copied it there, else the shared folder. */
const HWNB = sharedDataset('hwnasbench_nb201_cifar10.csv');
const EXAMPLES = HWNB && join(HWNB, '..', 'hwnasbench_reference_examples.json');

describe('parseCsv', () => {
  it('handles quoted fields with commas, doubled quotes, newlines, CRLF and a missing final newline', () => {
    expect(parseCsv('a,"b,c","d""e"\r\n1,"x\ny",3\n\n4,,"6"')).toEqual([['a', 'b,c', 'd"e'], ['1', 'x\ny', '3'], ['4', '', '6']]);
    expect(parseCsv('\ufeffh1,h2\n1,2\n')).toEqual([['h1', 'h2'], ['1', '2']]);
  });

  it('rejects an unterminated quote and a quote inside an unquoted field', () => {
    expect(() => parseCsv('a,"b\n1,2', 'f.csv')).toThrow(/f.csv: unterminated quoted field/);
    expect(() => parseCsv('a,b"c\n', 'f.csv')).toThrow(/f.csv:1: quote inside an unquoted field/);
  });
});

describe('readMetricTable', () => {
  const path = csvFile('t.csv', [
    'arch_idx,arch_str,lat,"energy, mJ"',
    '0,"|a~0|",1.5,2',
    '1,|b~0|,,3', // blank
    '2,|c~0|,-1.0,4', // negative (HW-NAS-Bench: missing)
    '3,|d~0|,n/a,5', // not a number
    '4,|e~0|, 0 ,"6"',
    '5,|f~0|,2e-3,7',
  ].join('\n'));

  it('keeps finite non-negative values and counts the skipped rows by reason', () => {
    const t = readMetricTable(path, { target: 'lat' });
    expect(t.rows).toEqual([{ arch: '|a~0|', value: 1.5 }, { arch: '|e~0|', value: 0 }, { arch: '|f~0|', value: 0.002 }]);
    expect(t.skipped).toBe(3);
    expect(t.skippedBy).toEqual({ blank: 1, nonNumeric: 1, negative: 1 });
    const e = readMetricTable(path, { archColumn: 'arch_idx', target: 'energy, mJ' });
    expect(e.rows.map((r) => r.arch)).toEqual(['0', '1', '2', '3', '4', '5']);
    expect(e.skipped).toBe(0);
  });

  it('names the missing column and lists those present; names a missing file', () => {
    expect(() => readMetricTable(path, { target: 'latency' })).toThrow(/no target column "latency"; columns present: arch_idx, arch_str, lat, energy, mJ/);
    expect(() => readMetricTable(path, { archColumn: 'arch', target: 'lat' })).toThrow(/no architecture column "arch"/);
    expect(() => readMetricTable(join(dir, 'nope.csv'), { target: 'lat' })).toThrow(/file not found: .*nope.csv/);
    expect(() => readMetricTable(csvFile('ragged.csv', 'a,b\n1,2,3\n'), { archColumn: 'a', target: 'b' })).toThrow(/record 2 has 3 fields, the header has 2/);
  });

  it.skipIf(!HWNB)('reads the HW-NAS-Bench NB201 table (needs hwnasbench_nb201_cifar10.csv)', () => {
    const counts: Record<string, [number, number]> = {
      raspi4_latency: [15625, 0], edgegpu_latency: [12555, 3070], edgetpu_latency: [12555 - 3768, 3070 + 3768],
    };
    const examples = JSON.parse(readFileSync(EXAMPLES!, 'utf8')).nasbench201 as { arch: number; dataset: string; metrics: Record<string, number> }[];
    const arch0 = examples.find((e) => e.arch === 0 && e.dataset === 'cifar10')!.metrics;
    for (const target of HWNASBENCH_TARGETS) {
      const t = readMetricTable(HWNB!, { target });
      expect(t.rows.length + t.skipped).toBe(15625);
      if (counts[target]) expect([t.rows.length, t.skipped], target).toEqual(counts[target]);
      expect(t.rows[0].arch).toBe('|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|');
      expect(t.rows[0].value, target).toBeCloseTo(arch0[target], 12);
    }
  });
});

describe('splitTable', () => {
  const rows = Array.from({ length: 50 }, (_, i) => ({ arch: `a${i}`, value: i }));

  it('is a seeded partition: reproducible, disjoint, complete, different across seeds', () => {
    const a = splitTable(rows, 20, 1);
    expect(a.train).toHaveLength(20);
    expect(a.test).toHaveLength(30);
    expect(splitTable(rows, 20, 1)).toEqual(a);
    const all = [...a.train, ...a.test].map((r) => r.value).sort((x, y) => x - y);
    expect(all).toEqual(rows.map((r) => r.value));
    expect(splitTable(rows, 20, 2).train).not.toEqual(a.train);
    expect(a.train.map((r) => r.value)).not.toEqual(rows.slice(0, 20).map((r) => r.value)); // shuffled
    expect(splitTable(rows, 0, 3).test).toHaveLength(50);
    expect(splitTable(rows, 50, 3).test).toHaveLength(0);
  });

  it('rejects a train size outside 0..rows', () => {
    expect(() => splitTable(rows, 51, 1)).toThrow(/nTrain must be an integer in 0..50/);
    expect(() => splitTable(rows, 2.5, 1)).toThrow(/nTrain/);
  });
});
