import { describe, it } from 'vitest';
import { softmax } from '../../src/ops/softmax.js';
import { costTable, expectedCost, identityPenalty, targetPenalty } from '../../src/nas/objectives.js';
import { checkFiniteDiff, expectClose, randArray, testDevice } from '../helpers.js';

const E = 6;
const K = 5;

function probs(a: Float32Array): number[] {
  const out: number[] = [];
  for (let e = 0; e < E; e++) {
    const row = Array.from(a.subarray(e * K, (e + 1) * K));
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    out.push(...row.map((v) => Math.exp(v - m) / z));
  }
  return out;
}

describe('search objectives', () => {
  it('expected cost, identity penalty and budget penalty match float64 and finite differences in α', async () => {
    const dev = await testDevice();
    const a = randArray(E * K, 3, -2, 2);
    const c = randArray(E * K, 4, 0, 3);
    const table = costTable(dev, c, E, K, 2);
    const p = probs(a);
    const exp = p.reduce((s, v, i) => s + (v * c[i]) / 2, 0);
    const skip = [0, 1, 2, 3, 4, 5].reduce((s, e) => s + p[e * K + 1], 0);
    const target = 1.7;
    const offset = 0.4;
    const cases: [string, (t: ReturnType<typeof dev.tensor>) => ReturnType<typeof dev.tensor>, number][] = [
      ['expected cost', (t) => expectedCost(softmax(t), table), exp],
      ['identity penalty', (t) => identityPenalty(softmax(t), 1, E, K), skip],
      ['budget penalty', (t) => targetPenalty(expectedCost(softmax(t), table), target, offset), ((offset + exp) / target - 1) ** 2],
    ];
    for (const [what, f, want] of cases) {
      const alpha = dev.tensor(a, [E, K], { requiresGrad: true });
      const v = f(alpha).retain();
      expectClose(await v.read(), [want], 1e-6, 1e-5, what);
      await v.backward();
      await checkFiniteDiff(dev, a, [E, K], f, await alpha.grad!.read(), { eps: 1e-2, atol: 1e-3, rtol: 2e-2 });
      v.dispose();
      alpha.dispose();
    }
    table.dispose();
  });
});
