import { describe, expect, it } from 'vitest';
import { mul, sum } from '../../src/ops/elementwise.js';
import { flatten, reshape } from '../../src/ops/shape.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

describe('shape ops', () => {
  it('reshape/flatten share storage and pass gradients back in the input shape', async () => {
    const dev = await testDevice();
    const xs = randArray(2 * 3 * 5, 4);
    const ws = randArray(2 * 15, 5);
    const x = dev.tensor(xs, [2, 3, 5], { requiresGrad: true });
    const f = flatten(x);
    expect(f.shape).toEqual([2, 15]);
    expect(f.buffer).toBe(x.buffer);
    const l = sum(mul(f, dev.tensor(ws, [2, 15])));
    await l.backward();
    expect(x.grad!.shape).toEqual([2, 3, 5]);
    expectClose(await x.grad!.read(), ws, 0, 0, 'reshape grad');
    expect(() => reshape(x, [7])).toThrow(/reshape/);
    l.dispose();
    x.dispose();
  });
});
