import { describe, expect, it } from 'vitest';
import { registry, type OpRecord } from '../src/ops/index.js';
import '../src/hardware/gnn-ops.js';
import { relError, verify } from '../kernels-bench/verify.js';
import { REFERENCE_SUITE } from '../kernels-bench/suite.js';
import { REFERENCES } from './reference/index.js';
import { testDevice } from './helpers.js';

describe('kernels-bench', () => {
  it('every registered op has a float64 reference and every reference-suite entry a registered op', () => {
    const names = registry().map((r) => r.name);
    const missing = names.filter((n) => !REFERENCES[n]);
    expect(missing, `ops without a reference in test/reference/index.ts: ${missing.join(', ')}`).toEqual([]);
    for (const e of REFERENCE_SUITE) {
      const rec = registry().find((r) => r.name === e.op);
      expect(rec, e.id).toBeDefined();
      expect(rec!.passes).toContain(e.pass);
    }
  });

  it('the check before timing passes a correct kernel and fails a wrong one', async () => {
    const dev = await testDevice();
    const relu = registry().find((r) => r.name === 'relu')!;
    const p = { n: 1001 };
    const inst = relu.setup(dev, p, 7);
    expect(await verify(dev, relu, p, 'forward', inst)).toMatch(/^ok/);
    // same inputs, a runner that computes the wrong function (scale instead of relu)
    const wrong: OpRecord = { ...relu };
    const bad = { inputs: inst.inputs, run: { forward: () => dev.axpy(2, inst.inputs.x, inst.inputs.x) } };
    expect(await verify(dev, wrong, p, 'forward', bad)).toMatch(/^FAILED/);
    Object.values(inst.inputs).forEach((t) => t.dispose());
  });
});

describe('relError', () => {
  it('a NaN anywhere fails, even when finite errors follow it', () => {
    expect(relError([Number.NaN, 1, 2], [0, 1, 2])).toBeNaN();
    expect(relError([0.5, 1, 2], [0, 1, 2])).toBeCloseTo(0.25, 12);
    expect(relError([1], [1, 2])).toBe(Infinity);
  });
});
