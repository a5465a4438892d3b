/** Re-measuring search results: the search's own network rebuilt from result.json, and the report. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatRemeasured, remeasureResults, searchKnobs } from '../../src/cli/remeasure.js';
import { evalForwardDispatches, testDevice } from '../helpers.js';
import { spaceBinding } from '../../src/nas/space-binding.js';

const dir = mkdtempSync(join(tmpdir(), 'wgnas-remeasure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = { dataset: 'mnist', channels: 3, cellsPerStage: 1, stemStride: 2, seed: 5, latencyBatch: 1, cost: 'latency', target: 2 };

function writeResult(name: string, body: object): string {
  const f = join(dir, `${name}.json`);
  writeFileSync(f, JSON.stringify(body));
  return f;
}

const light = writeResult('light', {
  space: 'nb201', arch_str: '|skip_connect~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|',
  genotype: ['skip_connect', 'none', 'avg_pool_3x3', 'skip_connect', 'none', 'none'],
  budget: { measured: 1.9, by: 'adapter' }, measured_latency_ms: { batch: 1, median: 2.1 }, config,
});
const heavy = writeResult('heavy', {
  space: 'nb201', arch_str: '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|',
  genotype: Array(6).fill('nor_conv_3x3'),
  measured_latency_ms: { batch: 1, median: 3.3 }, config: { ...config, seed: 6, cost: 'flops' },
});

describe('remeasureResults', () => {
  it('measures each result with the network its search ran, in one interleaved session', async () => {
    const dev = await testDevice();
    const rows = await remeasureResults(dev, [light, heavy], { warmup: 0, repeats: 2, settle: 1 });
    expect(rows.map((r) => r.file)).toEqual([light, heavy]);
    expect(rows[0]).toMatchObject({ target_ms: 2, calibrated_ms: 1.9, calibrated_by: 'adapter', result_ms: 2.1 });
    // a flops search has no latency target; no budget: no calibration
    expect(rows[1]).toMatchObject({ target_ms: undefined, calibrated_ms: undefined, result_ms: 3.3 });
    for (const r of rows) {
      expect(r.now_ms).toBeGreaterThan(0);
      expect(r.now_p10_ms).toBeLessThanOrEqual(r.now_p90_ms);
    }
    // the network rebuilt is the search's: MNIST 1×28×28 input, C = 3, the cell of the result
    const k = searchKnobs(config as Parameters<typeof searchKnobs>[0]);
    expect(k).toMatchObject({ C: 3, N: 1, inChannels: 1, H: 28, W: 28, classes: 10, stemStride: 2 });
    const all3x3 = spaceBinding('nb201', dev, k).child({ arch: Array(6).fill('nor_conv_3x3'), archStr: '' });
    const skips = spaceBinding('nb201', dev, k).child({ arch: ['skip_connect', 'none', 'avg_pool_3x3', 'skip_connect', 'none', 'none'], archStr: '' });
    expect(await evalForwardDispatches(dev, all3x3, [1, 1, 28, 28])).toBeGreaterThan(await evalForwardDispatches(dev, skips, [1, 1, 28, 28]));
    all3x3.dispose();
    skips.dispose();
  });

  it('refuses results of different networks, and files that are not results', async () => {
    const dev = await testDevice();
    const wide = writeResult('wide', { space: 'nb201', arch_str: 'x', genotype: [], measured_latency_ms: { batch: 1, median: 1 }, config: { ...config, channels: 4 } });
    await expect(remeasureResults(dev, [light, wide])).rejects.toThrow(/the searches ran different networks/);
    const bad = writeResult('bad', { space: 'nb201', arch_str: 'x' });
    await expect(remeasureResults(dev, [bad])).rejects.toThrow(/is not a search's result\.json: .*measured_latency_ms/);
    await expect(remeasureResults(dev, [join(dir, 'missing.json')])).rejects.toThrow(/cannot read .*missing\.json/);
    await expect(remeasureResults(dev, [])).rejects.toThrow(/no files given/);
  });
});

describe('formatRemeasured', () => {
  it('sets each measurement beside the target, with its signed distance', () => {
    const text = formatRemeasured([
      { file: 'a/result.json', arch_str: 'a', target_ms: 2, calibrated_ms: 1.9, result_ms: 2.2, now_ms: 2.05, now_p10_ms: 2, now_p90_ms: 2.1 },
      { file: 'b/result.json', arch_str: 'b', result_ms: 3, now_ms: 3.1, now_p10_ms: 3, now_p90_ms: 3.2 },
      { file: 'c/result.json', arch_str: 'c', target_ms: 6, calibrated_ms: 6.3, calibrated_by: 'model', result_ms: 6, now_ms: 6, now_p10_ms: 6, now_p90_ms: 6 },
    ]);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^result\s+target ms\s+calibrated\s+result\.json\s+now$/);
    expect(lines[1]).toMatch(/^a\/result\.json\s+2\.000\s+1\.900 \(-5\.0%\)\s+2\.200 \(\+10\.0%\)\s+2\.050 \(\+2\.5%\)$/);
    expect(lines[2]).toMatch(/^b\/result\.json\s+-\s+-\s+3\.000\s+3\.100$/);
    expect(lines[3]).toMatch(/^c\/result\.json\s+6\.000\s+6\.300 \(\+5\.0%\) by the model\s+6\.000 \(\+0\.0%\)\s+6\.000 \(\+0\.0%\)$/);
  });
});
