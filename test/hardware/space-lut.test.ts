import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencyCommand } from '../../src/cli/latency.js';
import { lutCommand } from '../../src/cli/lut.js';
import { adapterIdentity, loadLut, opKey, parseOpKey, type LatencyLut } from '../../src/hardware/lut.js';
import { buildSpaceLut, measureSpaceArchs, sampleSpaceArchs, spaceArchString, spaceChild, spaceLatencyCsv } from '../../src/hardware/space-lut.js';
import {
  dartsCellShapes, dartsEdgeShapes, spaceLatencyTable, spaceLutKnobs, spaceLutNetworkMs, spaceLutParts, spaceNetworkTerms,
  type SpaceArch, type SpaceLutConfig,
} from '../../src/hardware/space-lut-plan.js';
import { dartsSupernet } from '../../src/nas/darts-net.js';
import { dartsModelConfig, spaceBinding, type DerivedArch } from '../../src/nas/space-binding.js';
import { DARTS_PRIMITIVES, DARTS_V2, type Genotype } from '../../src/nas/spaces/darts.js';
import { MBCONV_CHOICES } from '../../src/nas/spaces/mbconv.js';
import type { Device } from '../../src/tensor/device.js';
import { evalForwardDispatches, runNode, testDevice } from '../helpers.js';

// Tiny networks keep the builds to a few seconds on lavapipe. DARTS N=2 (8 cells): every normal-cell α row
// is shared by two cells at each size, so the table's sum over cells is exercised.
const DARTS: SpaceLutConfig = { space: 'darts', C: 4, N: 2, inChannels: 1, H: 8, W: 8, classes: 3, stemStride: 1, batch: 1 };
const MBCONV: SpaceLutConfig = { space: 'mbconv', C: 4, N: 1, inChannels: 1, H: 8, W: 8, classes: 3, stemStride: 1, batch: 1 };
const dir = mkdtempSync(join(tmpdir(), 'wgnas-space-lut-'));

interface Built {
  dev: Device;
  lut: LatencyLut;
  dispatches: Map<string, number>;
  path: string;
}
const builds = new Map<string, Promise<Built>>();
function built(cfg: SpaceLutConfig): Promise<Built> {
  if (!builds.has(cfg.space)) {
    builds.set(cfg.space, (async () => {
      const dev = await testDevice();
      const dispatches = new Map<string, number>();
      const path = join(dir, `${cfg.space}.json`);
      const lut = await buildSpaceLut(dev, cfg, { warmup: 1, repeats: 2, out: path, onEntry: (e) => dispatches.set(e.part.key, e.timing.dispatches) });
      return { dev, lut, dispatches, path };
    })());
  }
  return builds.get(cfg.space)!;
}

const binding = (dev: Device, cfg: SpaceLutConfig) => spaceBinding(cfg.space, dev, spaceLutKnobs(cfg));
const derived = (cfg: SpaceLutConfig, arch: SpaceArch): DerivedArch => ({ arch: arch as DerivedArch['arch'], archStr: spaceArchString(cfg, arch) });

/** Dispatches of one plain eval forward of the child network. */
function forwardDispatches(dev: Device, cfg: SpaceLutConfig, arch: SpaceArch): number {
  return evalForwardDispatches(dev, spaceChild(dev, cfg, arch), [cfg.batch, cfg.inChannels, cfg.H, cfg.W]);
}

describe('space LUT plan', () => {
  it('walks the DARTS cells as the network builds them', async () => {
    const dev = await testDevice();
    const net = dartsSupernet(dev, dartsModelConfig(spaceLutKnobs(DARTS)));
    const cells = dartsCellShapes(DARTS);
    expect(cells.map((c) => [c.C, c.s0.c, c.s1.c, c.reduction, c.reductionPrev]))
      .toEqual(net.cells.map((c) => [c.cfg.C, c.cfg.cPrevPrev, c.cfg.cPrev, c.cfg.reduction, c.cfg.reductionPrev]));
    net.dispose();
    expect(cells.map((c) => [c.s1.h, c.hOut])).toEqual([[8, 8], [8, 8], [8, 4], [4, 4], [4, 4], [4, 2], [2, 2], [2, 2]]);
    // a reduction cell: stride 2 on the edges reading the cell inputs, stride 1 at the output size elsewhere
    const red = dartsEdgeShapes(DARTS, cells[2]);
    expect(red[0]).toEqual({ n: 1, c_in: 8, c_out: 8, h: 8, w: 8, stride: 2 });
    expect(red[2]).toEqual(red[0]); // node 1 ← state 0
    expect(red[4]).toEqual({ n: 1, c_in: 8, c_out: 8, h: 4, w: 4, stride: 1 }); // node 1 ← node 0
  });

  it('lists each key once; free ops have none', () => {
    for (const cfg of [DARTS, MBCONV]) {
      const keys = spaceLutParts(cfg).map((p) => p.key);
      expect(new Set(keys).size).toBe(keys.length);
      for (const k of keys) expect(opKey(parseOpKey(k).op, parseOpKey(k).shape)).toBe(k);
      expect(keys.some((k) => /^none\||^skip_connect\|.*\|s=1/.test(k))).toBe(false);
    }
    const d = spaceLutParts(DARTS).map((p) => p.key);
    expect(d).toContain('conv_bn|n=1|cin=1|cout=12|h=8|w=8|s=1|k=3');
    expect(d).toContain('skip_connect|n=1|cin=8|cout=8|h=8|w=8|s=2'); // FactorizedReduce C→C
    expect(d).toContain('factorized_reduce|n=1|cin=16|cout=8|h=8|w=8|s=2');
    expect(d).toContain('gap_linear|n=1|cin=64|cout=3|h=2|w=2|s=1');
    const m = spaceLutParts(MBCONV).map((p) => p.key);
    expect(m[0]).toBe('conv_bn_relu6|n=1|cin=1|cout=4|h=8|w=8|s=1|k=3');
    expect(m).toContain('mbconv_e6|n=1|cin=4|cout=6|h=8|w=8|s=2|k=7');
    expect(() => spaceLutParts({ ...MBCONV, C: 0 })).toThrow(/C must be a positive integer, got 0/);
    expect(() => spaceLutParts({ ...MBCONV, space: 'nb201' as 'darts' })).toThrow(/not darts or mbconv/);
  });
});

describe.each([DARTS, MBCONV])('$space LUT on the adapter', (cfg) => {
  it('the JSON round-trips with opKey keys and the adapter identity', async () => {
    const { dev, lut, path } = await built(cfg);
    const back = loadLut(path, adapterIdentity(dev.adapter));
    expect(back).toEqual(lut);
    expect(back.adapter).toEqual(adapterIdentity(dev.adapter));
    expect(Object.keys(back.entries).sort()).toEqual(spaceLutParts(cfg).map((p) => p.key).sort());
    for (const e of Object.values(back.entries)) expect(Number.isFinite(e.medianMs) && e.medianMs >= 0).toBe(true);
    expect(() => loadLut(path, { ...adapterIdentity(dev.adapter), device: 'another' })).toThrow(/measured on another adapter/);
  });

  it('the table is finite and non-negative where the supernet runs, 0 where it does not, and sums the cells sharing a row', async () => {
    const { dev, lut } = await built(cfg);
    const b = binding(dev, cfg);
    const { table, offset, rows, cols } = spaceLatencyTable(lut, cfg);
    expect([rows, cols]).toEqual([b.rows, b.cols]);
    expect(offset).toBeGreaterThan(0);
    const ms = (op: string, shape: Parameters<typeof opKey>[1]) => lut.entries[opKey(op, shape)].medianMs;
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const v = table[r * cols + c];
        const allowed = b.allowed ? b.allowed[r].includes(c) : true;
        if (!allowed || c === b.noneIndex) expect(v, `(${r}, ${c})`).toBe(0);
        else expect(Number.isFinite(v) && v >= 0, `(${r}, ${c}) = ${v}`).toBe(true);
      }
    }
    if (cfg.space === 'darts') {
      const cells = dartsCellShapes(cfg);
      const sep = DARTS_PRIMITIVES.indexOf('sep_conv_3x3');
      const skip = DARTS_PRIMITIVES.indexOf('skip_connect');
      // normal row 0: two cells at each of the three sizes
      const normal = [0, 3, 6].map((i) => ms('sep_conv_3x3', dartsEdgeShapes(cfg, cells[i])[0]));
      expect(table[sep]).toBeCloseTo(2 * normal.reduce((a, v) => a + v, 0), 5);
      // reduction rows: skip_connect costs on the stride-2 edges (FactorizedReduce) and nothing elsewhere
      const red = [2, 5].map((i) => ms('skip_connect', dartsEdgeShapes(cfg, cells[i])[0]));
      expect(table[14 * cols + skip]).toBeCloseTo(red[0] + red[1], 5);
      expect(table[(14 + 4) * cols + skip]).toBe(0); // node 1 ← node 0: the identity
      for (let r = 0; r < 14; r++) expect(table[r * cols + skip]).toBe(0);
    } else {
      const skip = MBCONV_CHOICES.indexOf('skip');
      for (let r = 0; r < rows; r++) expect(table[r * cols + skip]).toBe(0);
    }
  });

  it('LUT sum of a child = offset + Σ table·selection, and covers exactly the dispatches the child runs', async () => {
    const { dev, lut, dispatches } = await built(cfg);
    const b = binding(dev, cfg);
    const { table, offset } = spaceLatencyTable(lut, cfg);
    const archs = sampleSpaceArchs(cfg, 3, 5);
    if (cfg.space === 'darts') archs.push(DARTS_V2 as Genotype);
    for (const arch of archs) {
      const sel = b.selection(derived(cfg, arch));
      const viaTable = offset + table.reduce((a, v, i) => a + v * sel[i], 0);
      expect(spaceLutNetworkMs(lut, cfg, arch)).toBeCloseTo(viaTable, 4);
      let n = 0;
      for (const [key, count] of spaceNetworkTerms(cfg, arch)) n += count * dispatches.get(key)!;
      expect(n, spaceArchString(cfg, arch)).toBe(forwardDispatches(dev, cfg, arch));
    }
  });

  it('measures child networks next to their LUT sums', async () => {
    const { dev, lut } = await built(cfg);
    const archs = sampleSpaceArchs(cfg, 2, 11);
    const { rows } = await measureSpaceArchs(dev, cfg, archs, { lut, warmup: 1, repeats: 2 });
    const now = await measureSpaceArchs(dev, cfg, archs, { lut: 'now', warmup: 1, repeats: 1 });
    expect(Object.keys(now.lut!.entries).sort()).toEqual(Object.keys(lut.entries).sort());
    for (const r of [...rows, ...now.rows]) {
      expect(r.measured_ms).toBeGreaterThan(0);
      expect(r.lut_ms).toBeGreaterThan(0);
      expect(Number.isFinite(r.lut_ms / r.measured_ms)).toBe(true);
    }
    const csv = spaceLatencyCsv(rows).trim().split('\n');
    expect(csv).toHaveLength(3);
    if (cfg.space === 'darts') expect(csv[1].startsWith('"Genotype(normal=[(\'')).toBe(true);
  });
});

describe('wgnas lut / latency --space darts|mbconv', () => {
  it('flag and arch errors come before any device is opened', async () => {
    await expect(lutCommand(['--space', 'darts', '--bogus'])).rejects.toThrow(/unknown flag --bogus/);
    await expect(latencyCommand(['--space', 'mbconv'])).rejects.toThrow(/exactly one of --arch ARCH_STR or --sample K/);
    await expect(latencyCommand(['--space', 'mbconv', '--arch', 'k3e3-k9e9'])).rejects.toThrow(/--arch: bad MBConv arch string/);
    await expect(latencyCommand(['--space', 'darts', '--arch', 'Genotype(normal=['])).rejects.toThrow(/--arch: bad DARTS genotype/);
  });

  it('`node bin/wgnas.js lut --space mbconv` writes the table (run `npx tsc -p tsconfig.json` first: the CLI runs from dist/)', async () => {
    expect(existsSync('dist/src/cli/main.js'), 'dist/ is not built: run npx tsc -p tsconfig.json').toBe(true);
    const out = join(dir, 'cli-mbconv.json');
    const r = await runNode(['bin/wgnas.js', 'lut', '--space', 'mbconv', '--channels', '4', '--warmup', '0', '--repeats', '1', '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const lut = loadLut(out);
    const cfg: SpaceLutConfig = { space: 'mbconv', C: 4, N: 1, inChannels: 1, H: 28, W: 28, classes: 10, stemStride: 2, batch: 1 };
    expect(Object.keys(lut.entries).sort()).toEqual(spaceLutParts(cfg).map((p) => p.key).sort());
    expect(JSON.parse(readFileSync(out, 'utf8')).adapter.vendor).toBe(lut.adapter.vendor);
    expect(spaceLatencyTable(lut, cfg).table).toHaveLength(6 * MBCONV_CHOICES.length);
  });
});
