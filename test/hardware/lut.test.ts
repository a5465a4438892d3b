import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createLut, edgeLatencies, expectedLatencyMs, loadLut, lutLatencyMs, opKey, parseOpKey, saveLut, setEntry, type AdapterIdentity, type OpShape,
} from '../../src/hardware/lut.js';

const LAVAPIPE: AdapterIdentity = { vendor: 'mesa', architecture: 'llvm', description: 'llvmpipe (LLVM 15.0.6, 256 bits)', device: 'lavapipe' };
const OTHER: AdapterIdentity = { ...LAVAPIPE, description: 'NVIDIA H100', vendor: 'nvidia' };
const S: OpShape = { n: 1, c_in: 16, c_out: 16, h: 32, w: 32, stride: 1 };
const stats = (medianMs: number) => ({ medianMs, p10Ms: medianMs * 0.9, p90Ms: medianMs * 1.2, count: 20 });

describe('opKey', () => {
  it('writes the documented canonical format; parseOpKey inverts it', () => {
    expect(opKey('nor_conv_3x3', S)).toBe('nor_conv_3x3|n=1|cin=16|cout=16|h=32|w=32|s=1');
    const withK = { n: 8, c_in: 3, c_out: 24, h: 15, w: 17, stride: 2, kernel: 5 };
    expect(opKey('conv2d', withK)).toBe('conv2d|n=8|cin=3|cout=24|h=15|w=17|s=2|k=5');
    expect(parseOpKey('conv2d|n=8|cin=3|cout=24|h=15|w=17|s=2|k=5')).toEqual({ op: 'conv2d', shape: withK });
    expect(parseOpKey(opKey('avg_pool_3x3', S))).toEqual({ op: 'avg_pool_3x3', shape: S });
    // extra properties never leak into the key
    expect(opKey('skip_connect', { ...S, label: 'x' } as OpShape)).toBe(opKey('skip_connect', S));
  });

  it('rejects bad names, non-integer or non-positive sizes, and non-canonical keys', () => {
    expect(() => opKey('Conv 3x3', S)).toThrow(/snake_case/);
    expect(() => opKey('conv', { ...S, h: 0 })).toThrow(/h must be a positive integer, got 0/);
    expect(() => opKey('conv', { ...S, c_in: 1.5 })).toThrow(/c_in must be a positive integer/);
    expect(() => opKey('conv', { ...S, kernel: -3 })).toThrow(/kernel/);
    for (const k of ['conv|n=1|cin=16|cout=16|h=32|w=32', 'conv|n=01|cin=16|cout=16|h=32|w=32|s=1', 'conv|cin=16|n=1|cout=16|h=32|w=32|s=1',
      'conv|n=1|cin=16|cout=16|h=32|w=32|s=1|p=1', 'Conv|n=1|cin=16|cout=16|h=32|w=32|s=1']) {
      expect(() => parseOpKey(k), k).toThrow(/not a LUT key|snake_case/);
    }
  });
});

describe('LatencyLut', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgnas-lut-'));

  function sample() {
    const lut = createLut({ ...LAVAPIPE, name: 'extra fields are dropped' } as AdapterIdentity, 'timestamp');
    setEntry(lut, 'nor_conv_3x3', S, stats(2));
    setEntry(lut, 'nor_conv_1x1', S, stats(0.5));
    setEntry(lut, 'avg_pool_3x3', S, stats(0.25));
    setEntry(lut, 'skip_connect', S, stats(0.125));
    return lut;
  }

  it('saves atomically (no temporary file left) and loads back equal, for the same adapter', () => {
    const lut = sample();
    expect(lut.adapter).toEqual(LAVAPIPE);
    const path = join(dir, 'sub', 'lut.json');
    saveLut(path, lut);
    saveLut(path, lut); // overwriting an existing table
    expect(readdirSync(join(dir, 'sub'))).toEqual(['lut.json']);
    const back = loadLut(path, LAVAPIPE);
    expect(back).toEqual(lut);
    expect(lutLatencyMs(back, 'nor_conv_3x3', S)).toBe(2);
    expect(lutLatencyMs(back, 'nor_conv_3x3', { ...S, h: 16, w: 16 })).toBeUndefined();
    expect(loadLut(path)).toEqual(lut); // no adapter given: no identity check
  });

  it('refuses a table measured on another adapter, naming both', () => {
    const path = join(dir, 'other.json');
    saveLut(path, sample());
    expect(() => loadLut(path, OTHER)).toThrow(/measured on another adapter \(vendor "mesa".*llvmpipe.*the adapter in use is vendor "nvidia".*NVIDIA H100/);
  });

  it('validates with zod: bad entries, bad keys, not JSON, missing file', () => {
    const bad = (name: string, body: unknown): string => {
      const p = join(dir, name);
      writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
      return p;
    };
    const ok = JSON.parse(JSON.stringify(sample()));
    expect(() => loadLut(bad('neg.json', { ...ok, entries: { [opKey('x', S)]: { ...stats(1), medianMs: -1 } } }))).toThrow(/neg.json\): not a valid latency LUT: entries.*medianMs/);
    expect(() => loadLut(bad('ver.json', { ...ok, version: 2 }))).toThrow(/version/);
    expect(() => loadLut(bad('noadapter.json', { ...ok, adapter: undefined }))).toThrow(/adapter/);
    expect(() => loadLut(bad('key.json', { ...ok, entries: { 'conv 3x3': stats(1) } }))).toThrow(/"conv 3x3" is not a LUT key/);
    expect(() => loadLut(bad('trunc.json', JSON.stringify(ok).slice(0, 40)))).toThrow(/trunc.json\): not JSON/);
    expect(() => loadLut(join(dir, 'missing.json'))).toThrow(/file not found: .*missing.json/);
    expect(() => setEntry(sample(), 'conv', S, { ...stats(1), count: 0 })).toThrow(/LUT entry for conv\|n=1.*count/);
  });

  it('expected latency of a relaxed cell is Σ_edges Σ_ops p·lat, with none free', () => {
    const lut = sample();
    const ops = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'];
    expect(edgeLatencies(lut, ops, S)).toEqual([0, 0.125, 0.5, 2, 0.25]);
    const edges = [
      { ops, probs: [0.2, 0.2, 0.2, 0.2, 0.2], shape: S }, // 0.2·2.875 = 0.575
      { ops, probs: [0, 0, 0, 1, 0], shape: S }, // 2
      { ops, probs: [0.5, 0, 0.25, 0, 0.25], shape: S }, // 0.125 + 0.0625 = 0.1875
    ];
    expect(expectedLatencyMs(lut, edges)).toBeCloseTo(0.575 + 2 + 0.1875, 14);
    expect(expectedLatencyMs(lut, [])).toBe(0);
    expect(() => expectedLatencyMs(lut, [{ ops, probs: [1, 0, 0, 0, 0], shape: { ...S, c_in: 32 } }])).toThrow(/LUT has no entry skip_connect\|n=1\|cin=32/);
    expect(() => expectedLatencyMs(lut, [{ ops, probs: [1, 0], shape: S }])).toThrow(/edge 0 has 5 ops but 2 probabilities/);
    expect(() => expectedLatencyMs(lut, [{ ops, probs: [1, 0, NaN, 0, 0], shape: S }])).toThrow(/probability 2 \(nor_conv_1x1\) is NaN/);
  });

  it('the saved file is the documented JSON structure', () => {
    const path = join(dir, 'doc.json');
    saveLut(path, sample());
    const json = JSON.parse(readFileSync(path, 'utf8'));
    expect(Object.keys(json).sort()).toEqual(['adapter', 'createdAt', 'entries', 'timeSource', 'version']);
    expect(json.entries['nor_conv_3x3|n=1|cin=16|cout=16|h=32|w=32|s=1']).toEqual({ medianMs: 2, p10Ms: 1.8, p90Ms: 2.4, count: 20 });
  });
});
