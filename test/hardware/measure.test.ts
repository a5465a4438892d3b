import { afterAll, describe, expect, it } from 'vitest';
import { dispatchStats, LATENCY_PROTOCOL, latencyStats, measureNetworkLatencies, measureNetworkLatency, openProfilingDevice, timeForward, timeInterleaved } from '../../src/hardware/measure.js';
import { adapterIdentity } from '../../src/hardware/lut.js';
import { Conv2d } from '../../src/nn/layers.js';
import { nb201Child } from '../../src/nas/nb201-net.js';
import { parseNb201 } from '../../src/nas/spaces/nb201.js';
import type { Device } from '../../src/tensor/device.js';
import { testDevice } from '../helpers.js';

// Timing on lavapipe is noisy (2 shared cores): no test asserts a tight time. Orderings are asserted only
// between workloads hundreds of times apart in FLOPs; everything else checks structure (dispatch counts,
// p10 ≤ median ≤ p90, modes restored).
const TINY = { C: 2, N: 1, inChannels: 1, classes: 3, stemStride: 1, seed: 3 };
const ALL_CONV = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const ALL_SKIP = '|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|';

// Timing tests run on a device with nanosecond timestamps (openProfilingDevice): on the test device
// Dawn rounds every delta to 65.5 µs, and per-dispatch medians of kernels shorter than that are 0.
let prof: Promise<Device> | undefined;
const profDevice = () => (prof ??= openProfilingDevice({ adapter: process.env.WGNAS_TEST_ADAPTER ?? 'auto', poison: true }).then((p) => p.dev));
afterAll(async () => {
  if (prof) (await prof).destroy();
});

describe('measureNetworkLatency', () => {
  it('returns positive, ordered statistics, the dispatch count of one forward, and restores train mode', async () => {
    const dev = await profDevice();
    const net = nb201Child(dev, TINY, parseNb201(ALL_CONV));
    net.train();
    const r = await measureNetworkLatency(dev, net, [1, 1, 8, 8], { warmup: 1, repeats: 3 });
    expect(r.source).toBe(dev.profiler.source);
    expect(r.repeats).toBe(3);
    expect(r.medianMs).toBeGreaterThan(0);
    expect(r.minMs).toBeLessThanOrEqual(r.p10Ms);
    expect(r.sumMedianMs).toBeGreaterThan(0);
    expect(r.p10Ms).toBeLessThanOrEqual(r.medianMs);
    expect(r.medianMs).toBeLessThanOrEqual(r.p90Ms);
    expect(r.wallMedianMs).toBeGreaterThan(0);
    expect(net.modules().every((m) => m.training)).toBe(true);
    expect(dev.poison).toBe(true); // switched off only while timing

    // the count is the dispatches of one plain eval forward (no poison fills, no backward)
    net.eval();
    dev.poison = false;
    const x = dev.tensor(new Float32Array(64).fill(0.5), [1, 1, 8, 8]);
    const before = dev.dispatchCount;
    dev.tidy(() => dev.noGrad(() => void net.forward(x)));
    const plain = dev.dispatchCount - before;
    dev.poison = true;
    x.dispose();
    expect(r.dispatches).toBe(plain);

    // a cell of skips runs 6 ReLU-Conv-BN fewer per cell (3 kernels each) and no node sums
    const light = nb201Child(dev, TINY, parseNb201(ALL_SKIP));
    const l = await measureNetworkLatency(dev, light, [1, 1, 8, 8], { warmup: 1, repeats: 2 });
    expect(l.dispatches).toBeLessThan(r.dispatches);
    net.dispose();
    light.dispose();
  });

  it('a network 256× heavier in FLOPs measures slower', async () => {
    const dev = await profDevice();
    // 64→64 channels vs 4→4 on the same 16×16 input: 256× the multiply-adds (≈ 19 M vs 74 k)
    const heavy = new Conv2d(dev, { cin: 64, cout: 64, k: 3, padding: 1, seed: 1 });
    const light = new Conv2d(dev, { cin: 4, cout: 4, k: 3, padding: 1, seed: 2 });
    const h = await measureNetworkLatency(dev, heavy, [2, 64, 16, 16], { warmup: 1, repeats: 3 });
    const l = await measureNetworkLatency(dev, light, [2, 4, 16, 16], { warmup: 1, repeats: 3 });
    expect(h.dispatches).toBe(l.dispatches);
    expect(h.medianMs).toBeGreaterThan(l.medianMs);
    heavy.dispose();
    light.dispose();
  });

  it('rejects a non-NCHW input and bad repeat counts; keeps earlier profiler records', async () => {
    const dev = await testDevice();
    const m = new Conv2d(dev, { cin: 1, cout: 1, k: 1 });
    await expect(measureNetworkLatency(dev, m, [1, 8, 8])).rejects.toThrow(/input shape must be \[N, C, H, W\], got \[1,8,8\]/);
    await expect(timeForward(dev, () => {}, { repeats: 0 })).rejects.toThrow(/repeats must be an integer >= 1, got 0/);
    await expect(timeForward(dev, () => {}, { warmup: -1 })).rejects.toThrow(/warmup must be an integer >= 0/);
    const mark = { kernel: 'mark', shape: '', ms: 1, source: dev.profiler.source };
    dev.profiler.records = [mark];
    const t = await timeForward(dev, () => {}, { warmup: 0, repeats: 2 });
    expect(t).toMatchObject({ medianMs: 0, dispatches: 0, count: 2 });
    expect(dev.profiler.records).toEqual([mark]);
    dev.profiler.records = [];
    m.dispose();
    expect(latencyStats([3, 1, 2])).toEqual({ medianMs: 2, p10Ms: 1.2, p90Ms: 2.8, count: 3 });
    expect(() => latencyStats([])).toThrow(/no samples/);
  });

  it('takes the statistics per dispatch: a spike in a different dispatch of each repeat is rejected', () => {
    // dispatch 0 spikes in repeat 1, dispatch 1 in repeat 0: every per-forward sum but one is spoiled
    const s = dispatchStats([[1, 10], [10, 1], [1, 1]]);
    expect(s).toMatchObject({ medianMs: 2, minMs: 2, sumMedianMs: 11, count: 3 });
    expect(s.p10Ms).toBeCloseTo(2, 12);
    expect(s.p90Ms).toBeCloseTo(2 * (1 + 0.8 * 9), 12);
    // repeats of different lengths (a dropped timestamp): statistics of the sums
    expect(dispatchStats([[1, 2], [4], [3, 3]])).toMatchObject({ medianMs: 4, minMs: 3, sumMedianMs: 4 });
    expect(() => dispatchStats([])).toThrow(/no runs/);
  });

  it('interleaves the repeats of several forwards, each with its own dispatch count', async () => {
    const dev = await testDevice();
    const a = new Conv2d(dev, { cin: 2, cout: 2, k: 3, padding: 1, seed: 1 });
    const b = new Conv2d(dev, { cin: 2, cout: 3, k: 1, seed: 2 });
    const rounds: number[] = [];
    const x = dev.tensor(new Float32Array(2 * 25).fill(1), [1, 2, 5, 5]);
    const [ta, tb, tn] = await timeInterleaved(dev, [() => void a.forward(x), () => void b.forward(x), () => {}], { warmup: 1, repeats: 3, onRound: (r) => rounds.push(r) });
    expect(rounds).toEqual([0, 1, 2]);
    expect(ta.perDispatchMs).toHaveLength(3);
    expect(ta.dispatches).toBeGreaterThan(0);
    expect(tb.dispatches).toBeGreaterThan(0);
    expect(tn).toMatchObject({ dispatches: 0, medianMs: 0 });
    const [ma, mb] = await measureNetworkLatencies(dev, [a, b], [1, 2, 5, 5], { warmup: 0, repeats: 2 });
    expect([ma.dispatches, mb.dispatches]).toEqual([ta.dispatches, tb.dispatches]);
    x.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('the settle forwards of the latency protocol', () => {
  it('run untimed right before each timed forward, in both modes, and only the timed one is recorded', async () => {
    const dev = await testDevice();
    const m = new Conv2d(dev, { cin: 2, cout: 2, k: 3, padding: 1, seed: 1 });
    const x = dev.tensor(new Float32Array(2 * 25).fill(0.5), [1, 2, 5, 5]);
    const calls = [0, 0];
    const counted = (i: number) => () => {
      calls[i]++;
      m.forward(x);
    };
    const plain = await timeForward(dev, counted(0), { warmup: 1, repeats: 3 });
    const settled = await timeForward(dev, counted(1), { warmup: 1, repeats: 3, settle: 2 });
    // warm-up: one forward in each mode; then 3 profiled and 3 wall-timed forwards, each after `settle` more
    expect(calls).toEqual([2 + 3 + 3, 2 + 3 * 3 + 3 * 3]);
    expect(settled.dispatches).toBe(plain.dispatches);
    expect(settled.perDispatchMs.map((r) => r.length)).toEqual([plain.dispatches, plain.dispatches, plain.dispatches]);
    await expect(timeForward(dev, counted(0), { settle: -1 })).rejects.toThrow(/settle must be an integer >= 0, got -1/);
    expect(LATENCY_PROTOCOL).toEqual({ warmup: 5, repeats: 30, settle: 1, sessions: 3 });
    x.dispose();
    m.dispose();
  });

  it('whole networks: the median of `sessions` whole sessions (LATENCY_PROTOCOL: 3)', async () => {
    const dev = await testDevice();
    const a = new Conv2d(dev, { cin: 2, cout: 3, k: 3, padding: 1, seed: 3 });
    const rounds: [number, number][] = [];
    const [r] = await measureNetworkLatencies(dev, [a], [1, 2, 6, 7], { warmup: 0, repeats: 2, onRound: (k, n) => rounds.push([k, n]) });
    expect(rounds).toEqual([0, 1, 2, 3, 4, 5].map((k) => [k, 6])); // 3 sessions of 2 rounds, counted through
    expect(r.sessionMediansMs).toHaveLength(3);
    expect(r.medianMs).toBe([...r.sessionMediansMs].sort((u, v) => u - v)[1]);
    expect(r.repeats).toBe(2);
    const [one] = await measureNetworkLatencies(dev, [a], [1, 2, 6, 7], { warmup: 0, repeats: 1, sessions: 1 });
    expect(one.sessionMediansMs).toEqual([one.medianMs]);
    await expect(measureNetworkLatencies(dev, [a], [1, 2, 6, 7], { sessions: 0 })).rejects.toThrow(/sessions must be an integer >= 1, got 0/);
    a.dispose();
  });
});

describe('openProfilingDevice', () => {
  it('opens the same adapter with unquantized timestamps (Dawn rounds them to 2^16 ns by default)', async () => {
    const dev0 = await testDevice();
    const { dev, exactTimestamps } = await openProfilingDevice({ adapter: process.env.WGNAS_TEST_ADAPTER ?? 'auto' });
    try {
      expect(adapterIdentity(dev.adapter)).toEqual(adapterIdentity(dev0.adapter));
      if (!dev.hasTimestamps) return; // wall-clock profiler: nothing to un-quantize
      expect(exactTimestamps).toBe(true);
      const m = new Conv2d(dev, { cin: 8, cout: 8, k: 3, padding: 1 });
      const x = dev.zeros([1, 8, 12, 12]);
      const t = await timeForward(dev, () => {
        for (let i = 0; i < 4; i++) m.forward(x);
      }, { warmup: 1, repeats: 3 });
      // nanosecond deltas: not all multiples of 65,536 ns
      const q = 65536e-6;
      expect(t.perDispatchMs.flat().some((ms) => Math.abs(ms / q - Math.round(ms / q)) > 1e-6)).toBe(true);
      x.dispose();
      m.dispose();
    } finally {
      dev.destroy();
    }
  });
});
