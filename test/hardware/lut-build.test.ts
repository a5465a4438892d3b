import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencyCommand } from '../../src/cli/latency.js';
import { lutCommand } from '../../src/cli/lut.js';
import {
  buildLut, latencyCsv, lutErrorReport, lutNetworkMs, measureNb201Archs, nb201LutParts, nb201NetworkTerms, nb201NodeParts,
  oneHotEdges, nb201StageShapes, sampleNb201Archs, type LatencyRow, type Nb201LutConfig,
} from '../../src/hardware/lut-build.js';
import { adapterIdentity, expectedLatencyMs, loadLut, opKey, type LatencyLut } from '../../src/hardware/lut.js';
import { readMetricTable } from '../../src/hardware/table.js';
import { nb201Child } from '../../src/nas/nb201-net.js';
import { formatNb201, parseNb201, type Nb201Arch } from '../../src/nas/spaces/nb201.js';
import type { Device } from '../../src/tensor/device.js';
import { evalForwardDispatches, testDevice } from '../helpers.js';

// A tiny network (C=2, 8×8 input, stem stride 1 → cells at 8×8, 4×4, 2×2) keeps the LUT build to a few
// seconds on lavapipe. N=2 so that the cell terms' multiplicity is exercised.
const CFG: Nb201LutConfig = { space: 'nb201', C: 2, N: 2, inChannels: 1, H: 8, W: 8, classes: 3, stemStride: 1, batch: 1 };
const ARCHS = [
  '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  '|none~0|+|none~0|none~1|+|none~0|none~1|none~2|', // every node a zero fill
  '|skip_connect~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|none~1|skip_connect~2|',
  '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|none~1|none~2|',
].map(parseNb201);
const dir = mkdtempSync(join(tmpdir(), 'wgnas-lut-build-'));

let built: Promise<{ dev: Device; lut: LatencyLut; dispatches: Map<string, number>; path: string }> | undefined;
function tinyLut() {
  built ??= (async () => {
    const dev = await testDevice();
    const dispatches = new Map<string, number>();
    const path = join(dir, 'tiny.json');
    const lut = await buildLut(dev, CFG, { warmup: 1, repeats: 2, out: path, onEntry: (e) => dispatches.set(e.part.key, e.timing.dispatches) });
    return { dev, lut, dispatches, path };
  })();
  return built;
}

/** Dispatches of one plain eval forward of the child network. */
function forwardDispatches(dev: Device, arch: Nb201Arch): number {
  const net = nb201Child(dev, { C: CFG.C, N: CFG.N, inChannels: CFG.inChannels, classes: CFG.classes, stemStride: CFG.stemStride, seed: 1 }, arch);
  return evalForwardDispatches(dev, net, [CFG.batch, CFG.inChannels, CFG.H, CFG.W]);
}

describe('NB201 LUT plan', () => {
  it('lists the keys of every part at the shapes the network derives', () => {
    expect(nb201StageShapes(CFG).map((s) => [s.c_in, s.h, s.w])).toEqual([[2, 8, 8], [4, 4, 4], [8, 2, 2]]);
    const keys = nb201LutParts(CFG).map((p) => p.key);
    expect(keys.slice(0, 4)).toEqual([
      'conv_bn|n=1|cin=1|cout=2|h=8|w=8|s=1|k=3',
      'resnet_basic_block|n=1|cin=2|cout=4|h=8|w=8|s=2',
      'resnet_basic_block|n=1|cin=4|cout=8|h=4|w=4|s=2',
      'bn_relu_gap_linear|n=1|cin=8|cout=3|h=2|w=2|s=1',
    ]);
    expect(keys).toContain('nor_conv_3x3|n=1|cin=4|cout=4|h=4|w=4|s=1');
    expect(keys).toContain('node_sum_3|n=1|cin=8|cout=8|h=2|w=2|s=1');
    expect(keys.some((k) => k.startsWith('none|'))).toBe(false);
    expect(keys).toHaveLength(4 + 3 * (4 + 3));
    expect(new Set(keys).size).toBe(keys.length);
    // odd sizes, stem stride 2 and batch are carried into the keys
    const odd = nb201LutParts({ ...CFG, H: 28, W: 27, stemStride: 2, batch: 64 }).map((p) => p.key);
    expect(odd[0]).toBe('conv_bn|n=64|cin=1|cout=2|h=28|w=27|s=2|k=3');
    expect(odd).toContain('avg_pool_3x3|n=64|cin=8|cout=8|h=4|w=4|s=1');
    expect(() => nb201LutParts({ ...CFG, C: 0 })).toThrow(/C must be a positive integer, got 0/);
    expect(() => nb201LutParts({ ...CFG, space: 'darts' as 'nb201' })).toThrow(/space "darts" is not supported/);
  });

  it('node parts follow the count of non-none inputs', () => {
    expect(nb201NodeParts(ARCHS[0])).toEqual([null, 'node_sum_2', 'node_sum_3']);
    expect(nb201NodeParts(ARCHS[1])).toEqual(['node_zeros', 'node_zeros', 'node_zeros']);
    expect(nb201NodeParts(ARCHS[2])).toEqual([null, null, 'node_sum_2']);
  });

  it('samples distinct valid cells, reproducibly', () => {
    const a = sampleNb201Archs(40, 7).map(formatNb201);
    expect(new Set(a).size).toBe(40);
    expect(sampleNb201Archs(40, 7).map(formatNb201)).toEqual(a);
    expect(sampleNb201Archs(40, 8).map(formatNb201)).not.toEqual(a);
    expect(() => sampleNb201Archs(0, 1)).toThrow(/k must be an integer in 1\.\.15625/);
  });
});

describe('buildLut', () => {
  it('times every key, for this adapter, and saves a table that loads back', async () => {
    const { dev, lut, path } = await tinyLut();
    const keys = nb201LutParts(CFG).map((p) => p.key);
    expect(Object.keys(lut.entries).sort()).toEqual([...keys].sort());
    expect(lut.adapter).toEqual(adapterIdentity(dev.adapter));
    expect(lut.timeSource).toBe(dev.profiler.source);
    for (const [k, e] of Object.entries(lut.entries)) {
      expect(e.count, k).toBe(2);
      expect(e.p10Ms, k).toBeLessThanOrEqual(e.medianMs);
      expect(e.medianMs, k).toBeLessThanOrEqual(e.p90Ms);
      if (k.startsWith('skip_connect|')) expect(e.medianMs).toBe(0); // the identity runs no kernel
    }
    expect(loadLut(path, adapterIdentity(dev.adapter))).toEqual(lut);
    expect(() => loadLut(path, { ...adapterIdentity(dev.adapter), description: 'some other GPU' })).toThrow(/measured on another adapter/);
  });

  it('the parts add up to the whole network: Σ dispatches of its keys = dispatches of the child network', async () => {
    const { dev, lut, dispatches } = await tinyLut();
    for (const arch of [...ARCHS, ...sampleNb201Archs(3, 11)]) {
      const terms = nb201NetworkTerms(CFG, arch);
      let sum = 0;
      for (const [key, count] of terms) {
        expect(lut.entries[key], key).toBeDefined();
        sum += count * dispatches.get(key)!;
      }
      expect(sum, formatNb201(arch)).toBe(forwardDispatches(dev, arch));
    }
  });

  it('expectedLatencyMs of a one-hot cell = the sum of its op entries; lutNetworkMs = Σ count · entry', async () => {
    const { lut } = await tinyLut();
    const ms = (key: string) => lut.entries[key].medianMs;
    for (const arch of ARCHS) {
      for (const shape of nb201StageShapes(CFG)) {
        const direct = arch.filter((op) => op !== 'none').reduce((a, op) => a + ms(opKey(op, shape)), 0);
        expect(expectedLatencyMs(lut, oneHotEdges(arch, shape))).toBeCloseTo(direct, 12);
      }
      let total = 0;
      for (const [key, count] of nb201NetworkTerms(CFG, arch)) total += count * ms(key);
      expect(lutNetworkMs(lut, CFG, arch)).toBeCloseTo(total, 12);
    }
    // cell terms scale with N, the fixed parts do not
    const fixed = nb201LutParts(CFG).filter((p) => p.kind === 'fixed').reduce((a, p) => a + ms(p.key), 0);
    const n1 = lutNetworkMs(lut, { ...CFG, N: 1 }, ARCHS[0]);
    expect(lutNetworkMs(lut, CFG, ARCHS[0]) - fixed).toBeCloseTo(2 * (n1 - fixed), 12);
    expect(() => lutNetworkMs(lut, { ...CFG, C: 3 }, ARCHS[0])).toThrow(/LUT has no entry conv_bn\|n=1\|cin=1\|cout=3/);
  });

  it('measures child networks against the LUT sum', async () => {
    const { dev, lut } = await tinyLut();
    const rows = await measureNb201Archs(dev, CFG, ARCHS.slice(0, 2), { lut, warmup: 0, repeats: 2 });
    expect(rows.map((r) => r.arch_str)).toEqual(ARCHS.slice(0, 2).map(formatNb201));
    rows.forEach((r, i) => {
      expect(r.lut_ms).toBe(lutNetworkMs(lut, CFG, ARCHS[i]));
      expect(r.dispatches).toBe(forwardDispatches(dev, ARCHS[i]));
      expect(r.wall_ms).toBeGreaterThan(0);
    });
    expect(rows[0].measured_ms).toBeGreaterThan(0);
    const noLut = await measureNb201Archs(dev, CFG, ARCHS.slice(1, 2), { warmup: 0, repeats: 1 });
    expect(noLut[0].lut_ms).toBeNaN();
  });
});

describe('latency CSV and error report', () => {
  const rows: LatencyRow[] = [
    { arch_str: formatNb201(ARCHS[0]), measured_ms: 2, measured_min_ms: 1.8, lut_ms: 1.5, wall_ms: 3, dispatches: 40 },
    { arch_str: formatNb201(ARCHS[1]), measured_ms: 1, measured_min_ms: 0.9, lut_ms: 1.05, wall_ms: 2, dispatches: 20 },
    { arch_str: formatNb201(ARCHS[2]), measured_ms: 4, measured_min_ms: 3.5, lut_ms: 4.2, wall_ms: 5.123456789, dispatches: 30 },
  ];

  it('writes arch_str + latency columns that the predictor table reader takes', () => {
    const csv = latencyCsv([...rows, { ...rows[0], arch_str: formatNb201(ARCHS[3]), lut_ms: NaN }]);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe('arch_str,measured_ms,measured_min_ms,lut_ms,wall_ms,dispatches');
    expect(lines[3]).toBe(`${formatNb201(ARCHS[2])},4,3.5,4.2,5.12346,30`);
    expect(lines[4].endsWith(',2,1.8,,3,40')).toBe(true); // no LUT sum: blank cell
    const path = join(dir, 'rows.csv');
    writeFileSync(path, csv);
    const measured = readMetricTable(path, { target: 'measured_ms' });
    expect(measured.rows).toEqual([...rows.map((r) => ({ arch: r.arch_str, value: r.measured_ms })), { arch: formatNb201(ARCHS[3]), value: 2 }]);
    expect(measured.rows.map((r) => formatNb201(parseNb201(r.arch)))).toEqual(measured.rows.map((r) => r.arch));
    const lut = readMetricTable(path, { target: 'lut_ms' });
    expect(lut.rows.map((r) => r.value)).toEqual([1.5, 1.05, 4.2]);
    expect(lut.skippedBy.blank).toBe(1);
  });

  it('MAPE, rank correlation and mean ratio of the LUT sum', () => {
    const r = lutErrorReport(rows);
    expect(r.n).toBe(3);
    expect(r.mape).toBeCloseTo((0.25 + 0.05 + 0.05) / 3, 12);
    expect(r.meanRatio).toBeCloseTo((0.75 + 1.05 + 1.05) / 3, 12);
    expect(r.spearman).toBeCloseTo(1, 12);
    expect(r.within10).toBeCloseTo(2 / 3, 12);
    expect(() => lutErrorReport(rows.slice(0, 1))).toThrow(/at least 2/);
    expect(() => lutErrorReport([...rows, { ...rows[0], lut_ms: NaN }])).toThrow(/no LUT sum/);
  });
});

describe('wgnas lut / latency', () => {
  it('flag errors name the flag before any device is opened', async () => {
    await expect(lutCommand(['--space', 'vgg'])).rejects.toThrow(/--space: .*allowed: nb201, darts, mbconv/);
    await expect(lutCommand(['--channels', '0'])).rejects.toThrow(/--channels: /);
    await expect(lutCommand(['--stem-stride', '3'])).rejects.toThrow(/--stem-stride: /);
    await expect(lutCommand(['--dataset', 'imagenet'])).rejects.toThrow(/--dataset: .*fashion-mnist/);
    await expect(lutCommand(['--bogus'])).rejects.toThrow(/unknown flag --bogus/);
    await expect(latencyCommand([])).rejects.toThrow(/exactly one of --arch ARCH_STR or --sample K/);
    await expect(latencyCommand(['--arch', formatNb201(ARCHS[0]), '--sample', '3'])).rejects.toThrow(/exactly one of/);
    await expect(latencyCommand(['--arch', '|conv~0|+|x|'])).rejects.toThrow(/--arch: bad NB201 arch string/);
    await expect(latencyCommand(['--sample', '1'])).rejects.toThrow(/--sample: /);
    await expect(latencyCommand(['--arch', formatNb201(ARCHS[0]), '--out', 'x.csv'])).rejects.toThrow(/--out writes the CSV of --sample/);
  });

  it('builds a table, then samples networks against it into a CSV', async () => {
    const lut = join(dir, 'cli.json');
    const csv = join(dir, 'cli.csv');
    const net = ['--channels', '2', '--stem-stride', '2', '--warmup', '0', '--repeats', '1'];
    await lutCommand([...net, '--out', lut, '--json']);
    const table = loadLut(lut);
    expect(Object.keys(table.entries)).toContain('conv_bn|n=1|cin=1|cout=2|h=28|w=28|s=2|k=3');
    await latencyCommand([...net, '--sample', '2', '--lut', lut, '--out', csv, '--seed', '5']);
    const rows = readMetricTable(csv, { target: 'measured_ms' }).rows;
    expect(rows.map((r) => r.arch)).toEqual(sampleNb201Archs(2, 5).map(formatNb201));
    expect(readFileSync(csv, 'utf8').split('\n')[0]).toBe('arch_str,measured_ms,measured_min_ms,lut_ms,wall_ms,dispatches');
    // a table without the keys of another config is refused with the missing key
    await expect(latencyCommand(['--channels', '4', '--warmup', '0', '--repeats', '1', '--sample', '2', '--lut', lut, '--out', csv]))
      .rejects.toThrow(/LUT has no entry .*cin=1\|cout=4/);
  });
});
