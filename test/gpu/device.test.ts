import { describe, expect, it } from 'vitest';
import { AdapterError, KernelError, listAdapters, openDevice, reflectShader, selectAdapter, shaderSource, ShapeError } from '../../src/index.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

describe('adapters', () => {
  it('lists at least one adapter with identity, features and limits', async () => {
    const all = await listAdapters();
    expect(all.length).toBeGreaterThan(0);
    for (const { info } of all) {
      expect(info.description.length + info.device.length).toBeGreaterThan(0);
      expect(['discrete', 'integrated', 'cpu', 'unknown']).toContain(info.kind);
      expect(info.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
      expect(Array.isArray(info.features)).toBe(true);
    }
  });

  it('auto picks the best kind present; kinds and names select', async () => {
    const all = await listAdapters();
    const auto = await selectAdapter('auto');
    const rank = { discrete: 0, integrated: 1, unknown: 2, cpu: 3 };
    for (const a of all) expect(rank[auto.info.kind]).toBeLessThanOrEqual(rank[a.info.kind]);
    const byName = await selectAdapter(all[0].info.description.slice(0, 6));
    expect(byName.info.description).toBe(all[0].info.description);
  });

  it('an unknown adapter name is an error that lists what is present', async () => {
    const all = await listAdapters();
    const err = await selectAdapter('no-such-gpu-xyz').catch((e) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err.message).toContain('no-such-gpu-xyz');
    expect(err.message).toContain(all[0].info.name);
  });

  it('an absent kind is an error, never a silent fallback', async () => {
    const all = await listAdapters();
    const kinds = new Set(all.map((a) => a.info.kind));
    const absent = (['discrete', 'integrated', 'cpu'] as const).find((k) => !kinds.has(k));
    if (!absent) return; // every kind present: nothing to test on this machine
    const err = await openDevice({ adapter: absent }).catch((e) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err.message).toMatch(/Adapters present/);
  });
});

describe('kernels', () => {
  it('//!include expands shared declarations before reflection and compilation', () => {
    const code = shaderSource('conv2d.wgsl');
    expect(code).not.toMatch(/^\/\/!include/m);
    expect(code.match(/struct P \{/g)?.length).toBe(1);
    const fwd = reflectShader('conv2d.wgsl').get('forward_naive')!;
    expect(fwd.uniform?.members.map((m) => m.name)).toEqual([
      'N', 'Cin', 'H', 'W', 'Cout', 'Hout', 'Wout', 'k', 'stride', 'pad', 'dil', 'groups', 'cinG', 'coutG', 'chunks', 'rowsPerChunk',
    ]);
    expect(fwd.bindings.find((b) => b.binding === 0)?.type).toBe('uniform');
  });

  it('axpy matches a float64 reference on odd sizes, with poisoned outputs', async () => {
    const dev = await testDevice();
    for (const n of [1, 7, 255, 257, 1000, 4099]) {
      const x = randArray(n, n);
      const y = randArray(n, n + 1);
      const out = dev.tidy(() => dev.axpy(-1.75, dev.tensor(x), dev.tensor(y)));
      const got = await out.read();
      out.dispose();
      const want = Array.from(x, (xi, i) => -1.75 * xi + y[i]);
      expectClose(got, want, 1e-6, 1e-6, `axpy n=${n}`);
    }
  });

  it('poisoning marks unwritten outputs with NaN', async () => {
    const dev = await testDevice();
    const t = dev.empty([5]);
    const got = await t.read();
    t.dispose();
    expect(Array.from(got).every(Number.isNaN)).toBe(true);
  });

  it('invalid WGSL fails with the shader file and entry point named', async () => {
    const dev = await openDevice({ adapter: 'auto' });
    const bad = '@group(0) @binding(0) var<storage, read_write> out: array<f32>;\n@compute @workgroup_size(64) fn broken() { out[0] = undefined_thing; }\n';
    let err: unknown;
    try {
      // compile a source that is not on disk under a fake file name
      dev.pipelines.get('fake_broken.wgsl', 'broken', undefined, (p) => p.then((e) => { if (e) err = e; }), bad);
      await dev.sync();
      await new Promise((r) => setTimeout(r, 50));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect(String((err as Error).message)).toContain('fake_broken.wgsl:broken');
    expect(String((err as Error).message)).toContain('undefined_thing');
    dev.destroy();
  });

  it('a shape mismatch is an error naming the op and the shapes', async () => {
    const dev = await testDevice();
    expect(() => dev.tidy(() => dev.axpy(1, dev.tensor([1, 2, 3]), dev.tensor([1, 2])))).toThrow(ShapeError);
    expect(() => dev.tidy(() => dev.axpy(1, dev.tensor([1, 2, 3]), dev.tensor([1, 2])))).toThrow(/axpy.*\[3\].*\[2\]/);
  });

  it('a missing binding is an error naming the kernel and the binding', async () => {
    const dev = await testDevice();
    expect(() => dev.dispatch({ shader: 'core.wgsl', entry: 'copy', bind: {}, params: { n: 1 }, workgroups: [1] })).toThrow(/core\.wgsl:copy.*"inp"/);
  });

  it('the allocator reuses buffers and tracks live and peak bytes', async () => {
    const dev = await testDevice();
    await dev.sync();
    dev.alloc.resetPeak();
    const before = dev.memory.liveBytes;
    const a = dev.zeros([1000]);
    const b = dev.zeros([1000]);
    expect(dev.memory.liveBytes - before).toBe(8000);
    a.dispose();
    b.dispose();
    expect(dev.memory.liveBytes).toBe(before);
    expect(dev.memory.peakLiveBytes - before).toBe(8000);
    const created = dev.memory.buffersCreated;
    const c = dev.zeros([1000]);
    expect(dev.memory.buffersCreated).toBe(created);
    c.dispose();
  });
});

describe('profiler', () => {
  it('ranks a heavier dispatch above a lighter one, grouped by kernel and shape', async () => {
    const dev = await testDevice();
    const small = dev.zeros([1 << 10]);
    const large = dev.zeros([1 << 22]);
    dev.profiler.reset();
    await dev.profile(() => {
      for (let i = 0; i < 5; i++) {
        dev.fillBuffer(small, i);
        dev.fillBuffer(large, i);
      }
    });
    const s = dev.profiler.summary();
    const get = (n: number) => s.find((r) => r.kernel === 'core.wgsl:fill' && r.shape === `[${n}]`)!;
    expect(get(1 << 10).count).toBe(5);
    expect(get(1 << 22).count).toBe(5);
    expect(get(1 << 22).medianMs).toBeGreaterThan(get(1 << 10).medianMs);
    expect(get(1 << 22).p10Ms).toBeLessThanOrEqual(get(1 << 22).p90Ms);
    expect(s[0].source).toBe(dev.hasTimestamps ? 'timestamp' : 'wall');
    small.dispose();
    large.dispose();
  });
});
