import { linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  adapterIdentity, autotuneEnabled, loadTuningCache, saveTuningCache, TuningCache, tuningCachePath, type TuningEntry,
} from '../../src/gpu/tuning-cache.js';
import { defaultVariant, legalVariants, tuneCall, tuneCalls, type TuneCandidate, type TuneInputs } from '../../src/ops/autotune.js';
import { conv2d, conv2dBackwardInput, conv2dForward, conv2dGeometry, CONV2D_VARIANTS, type Conv2dVariant } from '../../src/ops/conv2d.js';
import { scale, sum } from '../../src/ops/elementwise.js';
import { GEMM_VARIANTS, matmulRaw } from '../../src/ops/matmul.js';
import { recordTuneCalls, tuneKey, type Conv2dCall, type GemmCall } from '../../src/ops/tuning.js';
import { openDevice } from '../../src/tensor/device.js';
import type { Device } from '../../src/tensor/device.js';
import { conv2dBackwardInputRef, conv2dRef, convOut, type ConvGeom } from '../reference/conv2d.js';
import { matmulRef } from '../reference/matmul.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

// tiny shapes; tolerances as in conv2d.test.ts / matmul.test.ts (float32 sums of R products vs float64)
const tol = (r: number) => 2e-5 * Math.sqrt(r) + 1e-6;

const geo = (N: number, Cin: number, Cout: number, H: number, k: number, stride: number, pad: number, groups = 1): ConvGeom =>
  ({ N, Cin, Cout, H, W: H, k, stride, pad, dil: 1, groups });
const geometry = (g: ConvGeom) => conv2dGeometry([g.N, g.Cin, g.H, g.W], [g.Cout, g.Cin / g.groups, g.k, g.k], { stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups });
const convCall = (g: ConvGeom, pass: Conv2dCall['pass'] = 'forward'): Conv2dCall => ({ op: 'conv2d', pass, g: geometry(g) });
const gemmCall = (M: number, N: number, K: number, transA = false, transB = false, strides: [number, number, number] = [0, 0, M * N]): GemmCall =>
  ({ op: 'gemm', M, N, K, transA, transB, batch: 1, strides });
const convOpts = (g: ConvGeom, variant?: Conv2dVariant) => ({ stride: g.stride, padding: g.pad, dilation: g.dil, groups: g.groups, variant });

const entry = (variant: string, def: string): TuningEntry => ({ variant, default: def, ms: { [variant]: 1 }, source: 'timestamp' });

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'wgnas-autotune-'));
  dirs.push(d);
  return d;
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Kernel labels (shader:entry) dispatched by fn, from the profiler. */
async function kernelsOf(dev: Device, fn: () => Promise<void>): Promise<string[]> {
  dev.profiler.reset();
  await dev.profile(fn);
  const names = dev.profiler.records.map((r) => r.kernel.replace(/\{.*$/, '')).filter((k) => !k.startsWith('core.wgsl'));
  dev.profiler.reset();
  return names;
}

describe('autotune', () => {
  afterEach(async () => {
    (await testDevice()).tuning = undefined;
    vi.restoreAllMocks();
  });

  it('legal variant sets follow the ops own rules (and the ops accept exactly those)', async () => {
    const dev = await testDevice();
    expect(legalVariants(convCall(geo(1, 4, 4, 6, 1, 1, 0)))).toEqual(['naive', 'tiled', 'window', 'gemm']);
    expect(legalVariants(convCall(geo(1, 4, 6, 6, 3, 1, 1)))).toEqual(['naive', 'tiled', 'window']);
    expect(legalVariants(convCall(geo(1, 4, 4, 6, 1, 1, 1)))).not.toContain('gemm'); // padded 1×1
    expect(legalVariants(convCall(geo(1, 4, 4, 6, 3, 1, 1, 4)))).toEqual(['naive', 'tiled', 'window', 'depthwise', 'depthwise_window']);
    expect(legalVariants(convCall(geo(1, 4, 4, 7, 3, 2, 1, 4)))).toEqual(['naive', 'tiled', 'window', 'depthwise']); // stride 2: no depthwise_window
    expect(legalVariants(convCall(geo(1, 4, 4, 6, 3, 1, 1, 2)))).toEqual(['naive', 'tiled', 'window']); // grouped, not depthwise
    expect(legalVariants(convCall(geo(1, 2, 2, 12, 9, 1, 4)))).toEqual(['naive', 'tiled']); // k 9: no window kernel
    expect(legalVariants(gemmCall(8, 8, 8))).toEqual(['naive', 'tiled', 'tiled_vec4', 'tiled8_vec4']);
    expect(legalVariants(gemmCall(8, 8, 8, false, true))).toEqual(['naive', 'tiled', 'tiled_vec4']); // 8×8 tiles: no transB
    expect(legalVariants(gemmCall(8, 8, 8, true, true))).toEqual(['naive', 'tiled']);
    expect(legalVariants(gemmCall(8, 6, 8))).toEqual(['naive', 'tiled']); // N not a multiple of 4
    expect(legalVariants(gemmCall(8, 8, 8, false, false, [0, 6, 64]))).toEqual(['naive', 'tiled']); // unaligned stride
    for (const c of [convCall(geo(1, 4, 4, 6, 1, 1, 0)), convCall(geo(1, 4, 4, 7, 3, 2, 1, 4)), convCall(geo(1, 2, 2, 12, 9, 1, 4))]) {
      expect(legalVariants(c)).toContain(defaultVariant(c));
    }
    // the op itself accepts exactly the legal set (the tuner reuses its rules; nothing to drift)
    for (const g of [geo(1, 4, 4, 6, 1, 1, 0), geo(1, 4, 4, 7, 3, 2, 1, 4), geo(1, 2, 2, 12, 9, 1, 4)]) {
      const legal = legalVariants(convCall(g));
      const x = dev.zeros([g.N, g.Cin, g.H, g.W]);
      const w = dev.zeros([g.Cout, g.Cin / g.groups, g.k, g.k]);
      for (const v of CONV2D_VARIANTS) {
        const run = () => conv2dForward(x, w, convOpts(g, v)).dispose();
        if (legal.includes(v)) expect(run, v).not.toThrow();
        else expect(run, v).toThrow(/conv2d: the .* path needs/);
      }
      x.dispose();
      w.dispose();
    }
    const a = dev.zeros([8, 6]);
    for (const v of GEMM_VARIANTS) {
      const run = () => matmulRaw(a, a, { transA: true, variant: v }).dispose(); // [6,8]·[8,6]: N = 6
      if (legalVariants(gemmCall(6, 6, 8, true)).includes(v)) expect(run, v).not.toThrow();
      else expect(run, v).toThrow(/does not accept/);
    }
    a.dispose();
    await dev.sync();
  });

  it('the cache round-trips, is keyed per adapter, and ignores corrupt or foreign files', async () => {
    const dev = await testDevice();
    const id = adapterIdentity(dev.adapter);
    const dir = tmp();
    const path = tuningCachePath(id, { WGNAS_CACHE_DIR: dir });
    expect(path.startsWith(join(dir, 'autotune'))).toBe(true);
    expect(tuningCachePath({ ...id, description: `${id.description} (newer driver)` }, { WGNAS_CACHE_DIR: dir })).not.toBe(path);
    expect(tuningCachePath(id, { XDG_CACHE_HOME: '/x' })).toMatch(/^\/x\/wgnas\/autotune\/.+\.json$/);
    const cache = new TuningCache(id);
    cache.set('gemm.nn|b=1|m=8|n=8|k=8|sa=0|sb=0|sc=64', { variant: 'tiled', default: 'tiled_vec4', ms: { tiled: 0.1, tiled_vec4: 0.2 }, rejected: { tiled8_vec4: 'disagrees' }, source: 'timestamp' });
    saveTuningCache(cache, path);
    const warn = vi.fn();
    const back = loadTuningCache(id, path, warn);
    expect(back?.entries).toEqual(cache.entries);
    expect(warn).not.toHaveBeenCalled();
    expect(loadTuningCache(id, join(dir, 'absent.json'), warn)).toBeUndefined(); // no file: silently none
    expect(warn).not.toHaveBeenCalled();

    // another adapter's cache at this adapter's path: ignored, with a warning naming it
    const other = { ...id, description: 'Some Other GPU (driver 1.2.3)' };
    const json = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...json, adapter: other }));
    expect(loadTuningCache(id, path, warn)).toBeUndefined();
    expect(warn.mock.calls[0][0]).toMatch(/tuned on "Some Other GPU/);
    // corrupt JSON, a wrong version and a bad entry: ignored, never trusted
    for (const [text, why] of [['{"version": 1, "adapter": ', /not JSON/], [JSON.stringify({ ...json, version: 2 }), /not a version-1/],
      [JSON.stringify({ ...json, entries: { k: { variant: 'tiled' } } }), /not a version-1/]] as const) {
      writeFileSync(path, text);
      warn.mockClear();
      expect(loadTuningCache(id, path, warn)).toBeUndefined();
      expect(warn.mock.calls[0][0]).toMatch(why);
    }
    expect(autotuneEnabled(undefined, {})).toBe(true);
    expect(autotuneEnabled(undefined, { WGNAS_AUTOTUNE: '0' })).toBe(false);
    expect(autotuneEnabled(false, {})).toBe(false);
    expect(autotuneEnabled(true, { WGNAS_AUTOTUNE: '0' })).toBe(true);
  });

  it('records the keys of the calls an op makes', async () => {
    const dev = await testDevice();
    const g = geo(2, 4, 4, 5, 1, 1, 0);
    const x = dev.tensor(randArray(2 * 4 * 25, 1), [2, 4, 5, 5], { requiresGrad: true });
    const w = dev.tensor(randArray(16, 2), [4, 4, 1, 1], { requiresGrad: true });
    const calls = await recordTuneCalls(async () => {
      await sum(conv2d(x, w)).backward();
    });
    const keys = calls.map(tuneKey);
    for (const pass of ['forward', 'backward_input', 'backward_weight'] as const) expect(keys).toContain(tuneKey(convCall(g, pass)));
    expect(keys.filter((k) => k.startsWith('gemm.'))).toHaveLength(3); // the 1×1 conv's gemm path, once per pass
    expect(keys).toContain('gemm.nn|b=2|m=4|n=25|k=4|sa=0|sb=100|sc=100');
    for (const t of [x, w]) t.dispose();
  });

  it('a cached legal variant runs instead of the default, and still matches the float64 reference', async () => {
    const dev = await testDevice();
    const g = geo(2, 3, 5, 7, 3, 1, 1);
    const { Hout, Wout } = convOut(g);
    expect(defaultVariant(convCall(g))).toBe('window');
    const xv = randArray(2 * 3 * 49, 11);
    const wv = randArray(5 * 3 * 9, 12);
    const dv = randArray(2 * 5 * Hout * Wout, 13);
    const x = dev.tensor(xv, [2, 3, 7, 7]);
    const w = dev.tensor(wv, [5, 3, 3, 3]);
    const d = dev.tensor(dv, [2, 5, Hout, Wout]);
    const [M, K, N] = [8, 12, 8];
    const av = randArray(M * K, 14);
    const bv = randArray(K * N, 15);
    const a = dev.tensor(av, [M, K]);
    const b = dev.tensor(bv, [K, N]);
    expect(defaultVariant(gemmCall(M, N, K))).toBe('tiled_vec4');

    // without a cache: the shape-class defaults
    expect(await kernelsOf(dev, async () => { dev.tidy(() => { conv2dForward(x, w, convOpts(g)); }); })).toEqual(['conv2d-window.wgsl:pack_weight', 'conv2d-window.wgsl:forward']);
    dev.tuning = new TuningCache(adapterIdentity(dev.adapter), {
      [tuneKey(convCall(g))]: entry('tiled', 'window'),
      [tuneKey(convCall(g, 'backward_input'))]: entry('naive', 'window'),
      [tuneKey(gemmCall(M, N, K))]: entry('tiled', 'tiled_vec4'),
    });
    let y: Float32Array = new Float32Array();
    let dx: Float32Array = new Float32Array();
    let c: Float32Array = new Float32Array();
    const ran = await kernelsOf(dev, async () => {
      await dev.tidy(async () => {
        y = await conv2dForward(x, w, convOpts(g)).read();
        dx = await conv2dBackwardInput(d, w, x.shape, convOpts(g)).read();
        c = await matmulRaw(a, b).read();
      });
    });
    expect(ran).toEqual(['conv2d-tiled.wgsl:forward', 'conv2d.wgsl:backward_input_naive', 'matmul.wgsl:tiled']);
    expect(dev.tuning.hits).toBe(3);
    expectClose(y, conv2dRef(xv, wv, g), tol(27), 1e-4, 'cached tiled forward');
    expectClose(dx, conv2dBackwardInputRef(dv, wv, g), tol(45), 1e-4, 'cached naive backward_input');
    expectClose(c, matmulRef(av, bv, M, K, N), tol(K), 1e-4, 'cached tiled gemm');
    // an explicit variant always wins over the cache
    expect(await kernelsOf(dev, async () => { dev.tidy(() => { conv2dForward(x, w, convOpts(g, 'naive')); }); })).toEqual(['conv2d.wgsl:forward_naive']);
    for (const t of [x, w, d, a, b]) t.dispose();
  });

  it('a cached variant that is illegal for the shape (or unknown) is ignored with a warning, never dispatched', async () => {
    const dev = await testDevice();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const g = geo(1, 4, 4, 6, 3, 1, 1);
    const xv = randArray(4 * 36, 21);
    const wv = randArray(4 * 4 * 9, 22);
    const x = dev.tensor(xv, [1, 4, 6, 6]);
    const w = dev.tensor(wv, [4, 4, 3, 3]);
    const a = dev.tensor(randArray(64, 23), [8, 8]);
    dev.tuning = new TuningCache(adapterIdentity(dev.adapter), {
      [tuneKey(convCall(g))]: entry('gemm', 'window'), // a 3×3 conv cannot run as a GEMM
      [tuneKey(convCall(g, 'backward_input'))]: entry('depthwise', 'window'), // not depthwise
      [tuneKey(gemmCall(8, 8, 8, false, true))]: entry('tiled8_vec4', 'tiled_vec4'), // 8×8 tiles take no transB
      [tuneKey(gemmCall(8, 8, 8))]: entry('bogus', 'tiled_vec4'),
    });
    let y: Float32Array = new Float32Array();
    const ran = await kernelsOf(dev, async () => {
      await dev.tidy(async () => {
        for (let i = 0; i < 2; i++) y = await conv2dForward(x, w, convOpts(g)).read();
        conv2dBackwardInput(dev.zeros([1, 4, 6, 6]), w, x.shape, convOpts(g));
        matmulRaw(a, a, { transB: true });
        matmulRaw(a, a);
      });
    });
    expect(ran).toEqual(['conv2d-window.wgsl:pack_weight', 'conv2d-window.wgsl:forward', 'conv2d-window.wgsl:pack_weight', 'conv2d-window.wgsl:forward',
      'conv2d-window.wgsl:pack_weight', 'conv2d-window.wgsl:forward', 'matmul-vec4.wgsl:tiled_vec4', 'matmul-vec4.wgsl:tiled_vec4']);
    expectClose(y, conv2dRef(xv, wv, g), tol(36), 1e-4, 'fallback forward');
    expect(dev.tuning.hits).toBe(0);
    expect(dev.tuning.ignored.size).toBe(4);
    expect(warn).toHaveBeenCalledTimes(4); // once per key, not per call
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/"gemm" for conv2d\.forward.*cannot run that shape/);
    for (const t of [x, w, a]) t.dispose();
  });

  it('the tuner rejects a fast but wrong kernel, one that leaves outputs unwritten and one that throws; none is timed or chosen', async () => {
    const dev = await testDevice();
    const kept: ReturnType<typeof dev.clone>[] = [];
    const fakes = (): TuneCandidate[] => {
      let wrong: ReturnType<typeof dev.clone> | undefined;
      const answer = (inp: TuneInputs) => {
        wrong ??= dev.clone(scale(inp.runVariant('naive'), 1 + 1e-3), { persistent: true });
        kept.push(wrong);
        return wrong;
      };
      return [
        // a copy of the right answer scaled by 1 + 1e-3: one copy kernel, faster than any conv or GEMM
        { name: 'fast_wrong', run: (inp) => dev.clone(answer(inp)) },
        { name: 'unwritten', run: (inp) => dev.empty(inp.runVariant('naive').shape) },
        { name: 'throws', run: () => { throw new Error('kernel exploded'); } },
      ];
    };
    for (const call of [convCall(geo(2, 4, 4, 6, 3, 1, 1, 4)), gemmCall(8, 12, 16)]) {
      const r = await tuneCall(dev, call, { repeats: 3, warmup: 1, extraCandidates: fakes });
      const by = new Map(r.results.map((v) => [v.variant, v]));
      expect(by.get('fast_wrong')!.rejected).toMatch(/disagrees with naive: rel err (9\.9\de-4|1\.0\de-3) > 0\.0001/);
      expect(by.get('unwritten')!.rejected).toMatch(/disagrees with naive: rel err Infinity/);
      expect(by.get('throws')!.rejected).toMatch(/failed: kernel exploded/);
      for (const f of ['fast_wrong', 'unwritten', 'throws']) expect(by.get(f)!.ms, f).toBeUndefined();
      expect(legalVariants(call)).toContain(r.winner);
      for (const v of legalVariants(call)) {
        expect(by.get(v)!.rejected, v).toBeUndefined();
        expect(by.get(v)!.relErr!, v).toBeLessThanOrEqual(1e-4);
        expect(by.get(v)!.ms ?? by.get(by.get(v)!.sameAs!)!.ms, v).toBeGreaterThanOrEqual(0);
      }
      expect(r.speedup).toBeGreaterThanOrEqual(1);
    }
    new Set(kept).forEach((t) => t.dispose());
    await dev.sync();
  });

  it('tuning fills the device cache, saves it atomically, and a device opened with autotune loads it', async () => {
    const dev = await testDevice();
    const calls = [gemmCall(8, 8, 8), convCall(geo(1, 4, 4, 5, 3, 1, 1))];
    const results = await tuneCalls(dev, calls, { repeats: 2, warmup: 0 });
    expect(results.map((r) => r.key)).toEqual(calls.map(tuneKey));
    const cache = dev.tuning!;
    expect(Object.keys(cache.entries).sort()).toEqual(calls.map(tuneKey).sort());
    for (const r of results) expect(cache.variant(r.key)).toBe(r.winner);

    const dir = tmp();
    const path = tuningCachePath(cache.adapter, { WGNAS_CACHE_DIR: dir });
    saveTuningCache(new TuningCache(cache.adapter, { old: entry('naive', 'tiled') }), path);
    const before = readFileSync(path, 'utf8');
    linkSync(path, join(dir, 'old-inode.json'));
    saveTuningCache(cache, path);
    // renamed over, not written in place: the old inode still holds the old file, no temporary file is left
    expect(readFileSync(join(dir, 'old-inode.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(dir, 'autotune'))).toEqual([path.split('/').pop()]);
    expect(loadTuningCache(cache.adapter, path)?.entries).toEqual(cache.entries);

    const saved = process.env.WGNAS_CACHE_DIR;
    process.env.WGNAS_CACHE_DIR = dir;
    try {
      const opened = await openDevice({ adapter: process.env.WGNAS_TEST_ADAPTER ?? 'auto', autotune: true });
      expect(opened.tuning?.entries).toEqual(cache.entries);
      opened.destroy();
      const off = await openDevice({ adapter: process.env.WGNAS_TEST_ADAPTER ?? 'auto' }); // WGNAS_AUTOTUNE=0 in the test env
      expect(off.tuning).toBeUndefined();
      off.destroy();
    } finally {
      if (saved === undefined) delete process.env.WGNAS_CACHE_DIR;
      else process.env.WGNAS_CACHE_DIR = saved;
    }
  });
});
