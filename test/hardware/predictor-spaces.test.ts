import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { predictorCommand } from '../../src/cli/predictor.js';
import { spearman } from '../../src/hardware/metrics.js';
import {
  GnnPredictor, loadPredictor, predictLatencyFromProbs, predictLatencyRelaxed, savePredictor, type PredictorConfig,
} from '../../src/hardware/predictor.js';
import { encodeArchs, fitPredictor, fitTargetNorm, predictLatencies } from '../../src/hardware/predictor-train.js';
import { spaceRelaxedBasis, type SpaceNet } from '../../src/hardware/space-graph.js';
import { sampleSpaceArchs, spaceArchString, spaceLatencyCsv } from '../../src/hardware/space-lut.js';
import { dartsBinding, mbconvBinding, type NetKnobs, type SpaceBinding } from '../../src/nas/space-binding.js';
import { parseGenotype } from '../../src/nas/spaces/darts-format.js';
import { parseMbconv } from '../../src/nas/spaces/mbconv.js';
import { expectClose, expectRelaxedGradient, randArray, testDevice } from '../helpers.js';
import { gnnPredictorRef, relaxedFeaturesRef, relaxedLatencyRef, softmaxRowsRef, type RefState } from '../reference/predictor.js';

/** The search's default network (C=8, N=1, Fashion-MNIST 1×28×28, stem stride 2), batch 1: MBConv L = 6. */
const NET: SpaceNet = { C: 8, N: 1, inChannels: 1, H: 28, W: 28, classes: 10, stemStride: 2, batch: 1 };
const KNOBS: NetKnobs = { C: 8, N: 1, inChannels: 1, classes: 10, H: 28, W: 28, stemStride: 2, seed: 1 };
/** the search's bias on α entries a row may not run (src/nas/search.ts BLOCKED) */
const BLOCKED = -1e4;

type Space = 'darts' | 'mbconv';
const SPACES: Space[] = ['darts', 'mbconv'];

function binding(space: Space): SpaceBinding {
  return space === 'darts' ? dartsBinding(undefined as never, KNOBS) : mbconvBinding(undefined as never, KNOBS);
}

/** [rows·cols] 0 where allowed, BLOCKED elsewhere (MBConv's skip on stride-2 / channel-changing layers). */
function alphaMask(b: SpaceBinding): Float32Array {
  const m = new Float32Array(b.rows * b.cols);
  if (b.allowed) m.fill(BLOCKED);
  b.allowed?.forEach((cols, r) => cols.forEach((c) => (m[r * b.cols + c] = 0)));
  return m;
}

function archStrings(space: Space, k: number, seed: number): string[] {
  const cfg = { ...NET, space };
  return sampleSpaceArchs(cfg, k, seed).map((a) => spaceArchString(cfg, a));
}

function derived(space: Space, archStr: string) {
  return { arch: space === 'darts' ? parseGenotype(archStr) : [...parseMbconv(archStr)], archStr };
}

/** The one-hot P [rows·cols] of an architecture: the binding's selection, an edge DARTS drops = 'none'. */
function oneHot(b: SpaceBinding, archStr: string): Float32Array {
  const sel = b.selection(derived(b.space as Space, archStr));
  for (let r = 0; r < b.rows; r++) {
    if (sel.subarray(r * b.cols, (r + 1) * b.cols).every((v) => v === 0)) sel[r * b.cols + b.noneIndex] = 1;
  }
  return sel;
}

function cfgOf(space: Space, over: Partial<PredictorConfig> = {}): PredictorConfig {
  return {
    space, net: NET, adjacency: 'both', position: true, layers: 2, hidden: 8, headHidden: 6, readout: 'sum', seed: 3,
    norm: { transform: 'linear', mean: 5, std: 2 }, ...over,
  };
}

async function readOne(dev: Awaited<ReturnType<typeof testDevice>>, f: () => ReturnType<typeof predictLatencyRelaxed>): Promise<number> {
  return dev.tidy(async () => (await dev.noGrad(f).read())[0]);
}

describe.each(SPACES)('%s predictor: relaxed architectures', (space) => {
  const b = binding(space);
  const [E, K] = [b.rows, b.cols];

  it('one-hot P and a sharp α give the prediction of the arch string; softmax(α) matches the float64 reference', async () => {
    const dev = await testDevice();
    const cfg = cfgOf(space);
    const pred = new GnnPredictor(dev, cfg);
    expect([pred.graphs.rows, pred.graphs.cols, pred.nodes]).toEqual([E, K, E + 2]);
    const archs = archStrings(space, 3, 11);
    const discrete = await predictLatencies(pred, archs);
    for (const [i, arch] of archs.entries()) {
      const sel = oneHot(b, arch);
      const viaP = await readOne(dev, () => predictLatencyFromProbs(pred, dev.tensor(sel, [E, K])));
      expectClose([viaP], [discrete[i]], 1e-4, 1e-5, `one-hot P ${arch}`);
      const sharp = Float32Array.from(sel, (v, j) => 30 * v + alphaMask(b)[j]);
      const viaAlpha = await readOne(dev, () => predictLatencyRelaxed(pred, dev.tensor(sharp, [E, K])));
      expectClose([viaAlpha], [discrete[i]], 1e-4, 1e-5, `sharp α ${arch}`);
    }
    const state: RefState = await pred.stateDict();
    const alpha = Float32Array.from(randArray(E * K, 21, -1.5, 1.5), (v, j) => v + alphaMask(b)[j]);
    const got = await readOne(dev, () => predictLatencyRelaxed(pred, dev.tensor(alpha, [E, K])));
    const x = relaxedFeaturesRef(spaceRelaxedBasis(pred.graphs), softmaxRowsRef(alpha, E, K), pred.nodes, K, pred.features);
    expectClose([got], [cfg.norm.std * gnnPredictorRef(state, cfg, x, 1, pred.nodes, pred.features)[0] + cfg.norm.mean], 1e-4, 1e-4, 'relaxed vs reference');
    expect(() => predictLatencyRelaxed(pred, dev.tensor(randArray(12, 1), [3, 4]))).toThrow(new RegExp(`predict_latency \\(${space}\\): α must be \\[${E}, ${K}\\]`));
    pred.dispose();
  });

  it('∂latency/∂α matches float64 central differences of the reference and GPU finite differences', async () => {
    const dev = await testDevice();
    // a wide latency scale (std 100 ms) so the gradients are well above the f32 difference noise
    const cfg = cfgOf(space, { norm: { transform: 'linear', mean: 5, std: 100 } });
    const pred = new GnnPredictor(dev, cfg);
    const state: RefState = await pred.stateDict();
    const basis = spaceRelaxedBasis(pred.graphs);
    const [n, F] = [pred.nodes, pred.features];
    const mask = alphaMask(b);
    const alpha = Float32Array.from(randArray(E * K, 22, -1, 1), (v, j) => v + mask[j]);
    const grad = await expectRelaxedGradient(dev, pred, alpha, E, K, (al) => relaxedLatencyRef(state, cfg, basis, al, E, K, n, F));
    mask.forEach((v, j) => v < 0 && expect(Math.abs(grad[j]), `masked α entry ${j}`).toBe(0));
    pred.dispose();
  });

  it('save/load round-trips the space, its network and the weights', async () => {
    const dev = await testDevice();
    const dir = mkdtempSync(join(tmpdir(), `wgnas-pred-${space}-`));
    const pred = new GnnPredictor(dev, cfgOf(space, { adjacency: 'undirected', position: false, readout: 'mean', net: { ...NET, C: 16, batch: 2 } }));
    const archs = archStrings(space, 4, 41);
    const before = await predictLatencies(pred, archs);
    const path = join(dir, 'p.json');
    await savePredictor(path, pred, { target: 'measured_ms' });
    const { predictor, meta } = loadPredictor(dev, path);
    expect(meta).toEqual({ target: 'measured_ms' });
    expect(predictor.cfg).toEqual(pred.cfg);
    expect(predictor.graphs.enc.scales).toEqual(pred.graphs.enc.scales);
    expectClose(await predictLatencies(predictor, archs), before, 0, 0, 'reloaded');
    const file = JSON.parse(readFileSync(path, 'utf8'));
    delete file.config.net;
    writeFileSync(join(dir, 'nonet.json'), JSON.stringify(file));
    expect(() => loadPredictor(dev, join(dir, 'nonet.json'))).toThrow(new RegExp(`a ${space} predictor needs its network config`));
    pred.dispose();
    predictor.dispose();
  });
});

describe.each(SPACES)('%s predictor: training', (space) => {
  it('fits a latency that is linear in the per-op FLOPs and ranks held-out architectures (Spearman > 0.9)', async () => {
    const dev = await testDevice();
    const b = binding(space);
    // ms per MFLOP and a fixed cost per op, by α column: a known linear function of each op's FLOPs
    const macs = b.costTable('flops');
    const perFlop = Array.from({ length: b.cols }, (_, k) => 1 + 0.5 * (k % 2));
    const perOp = Array.from({ length: b.cols }, (_, k) => 0.02 * (k % 2));
    const latency = (arch: string): number => {
      const sel = b.selection(derived(space, arch));
      return 1 + sel.reduce((a, v, j) => a + v * ((2 * macs[j] * perFlop[j % b.cols]) / 1e6 + perOp[j % b.cols]), 0);
    };
    const all = archStrings(space, 100, 61);
    const [train, test] = [all.slice(0, 60), all.slice(60)];
    const rows = train.map((arch) => ({ arch, value: latency(arch) }));
    const { pred, result } = await fitPredictor(dev, rows, { space, net: NET, seed: 9, hidden: 16, layers: 2, epochs: 60, batchSize: 20, weightDecay: 0 });
    expect(pred.cfg.norm).toEqual(fitTargetNorm(rows.map((r) => r.value), 'linear'));
    expect(result.steps).toBe(60 * 3);
    const rho = spearman(await predictLatencies(pred, test), test.map(latency));
    expect(rho).toBeGreaterThan(0.9);
    expect(encodeArchs(pred, test.slice(0, 2)).length).toBe(2 * pred.nodes * pred.features);
    pred.dispose();
  });
});

describe('wgnas predictor --space darts|mbconv (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wgnas-pred-spaces-cli-'));
  /** a `wgnas latency --sample` CSV (spaceLatencyCsv: DARTS genotypes quoted) with a synthetic measured_ms */
  const table = (space: Space, k: number): string => {
    const path = join(dir, `${space}.csv`);
    const rows = archStrings(space, k, 71).map((arch_str, i) => ({
      arch_str, measured_ms: 1 + (arch_str.length % 7) + 0.1 * i, measured_min_ms: 1, lut_ms: NaN, wall_ms: 2, dispatches: 10,
    }));
    writeFileSync(path, spaceLatencyCsv(rows));
    return path;
  };
  const quick = ['--epochs', '2', '--hidden', '8', '--layers', '2', '--json'];

  afterEach(() => vi.restoreAllMocks());

  it('trains and evaluates on a latency CSV; eval --load takes the space and network from the file', async () => {
    const out: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    vi.spyOn(console, 'log').mockImplementation((s: unknown) => void out.push(String(s)));
    const mb = table('mbconv', 12);
    await predictorCommand(['eval', '--space', 'mbconv', '--table', mb, '--target', 'measured_ms', '--train', '8', ...quick]);
    const r = JSON.parse(out[0]);
    expect(Object.keys(r)).toEqual(['target', 'n_train', 'n_test', 'spearman', 'kendall', 'within10', 'rmse_ms', 'mape']);
    expect([r.target, r.n_train, r.n_test]).toEqual(['measured_ms', 8, 4]);
    const dt = table('darts', 10);
    expect(readFileSync(dt, 'utf8').split('\n')[1]).toMatch(/^"Genotype\(normal=\[\('/);
    const save = join(dir, 'darts.json');
    await predictorCommand(['eval', '--space', 'darts', '--table', dt, '--target', 'measured_ms', '--train', '6', '--save', save, ...quick]);
    const saved = JSON.parse(readFileSync(save, 'utf8'));
    expect([saved.config.space, saved.config.net]).toEqual(['darts', NET]);
    await predictorCommand(['eval', '--table', dt, '--load', save, '--json']);
    const [trained, loaded] = [JSON.parse(out[1]), JSON.parse(out[2])];
    for (const k of ['n_train', 'n_test', 'rmse_ms', 'mape'] as const) expect(loaded[k]).toBeCloseTo(trained[k], 5);
    await expect(predictorCommand(['eval', '--table', dt, '--load', save, '--space', 'mbconv'])).rejects.toThrow(/--space mbconv: .* is a darts predictor/);
    await expect(predictorCommand(['eval', '--table', dt, '--load', save, '--channels', '16'])).rejects.toThrow(/--channels 16: .*darts\.json was trained on darts C=8 /);
    await predictorCommand(['eval', '--table', dt, '--load', save, '--channels', '8', '--dataset', 'fashion-mnist', '--json']); // the saved network's values
  });

  it('bad --space, network flags and arch strings: errors name the flag or the row', async () => {
    const mb = table('mbconv', 12);
    const args = ['train', '--table', mb, '--target', 'measured_ms', '--train', '8', ...quick];
    await expect(predictorCommand([...args, '--space', 'proxyless'])).rejects.toThrow(/--space: .*allowed: nb201, darts, mbconv.*got "proxyless"/);
    await expect(predictorCommand([...args, '--channels', '16'])).rejects.toThrow(/--channels: the network flags are for --space darts\|mbconv/);
    // 3 layers per stage: the table's 6-layer strings do not fit
    await expect(predictorCommand([...args, '--space', 'mbconv', '--cells-per-stage', '2']))
      .rejects.toThrow(/the row with arch_str "k[0-9e]+-.*" is not an architecture of --space mbconv C=8 N=2 .*has 9 searchable layers, the arch has 6/);
    // NB201 cells are not DARTS genotypes
    const nb = join(dir, 'nb201.csv');
    writeFileSync(nb, 'arch_str,measured_ms\n|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,1.5\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1\n');
    await expect(predictorCommand(['train', '--space', 'darts', '--table', nb, '--target', 'measured_ms', '--train', '1']))
      .rejects.toThrow(/--table .*nb201\.csv: the row with arch_str "\|nor_conv_3x3~0\|.*" is not an architecture of --space darts .*bad DARTS genotype string/);
  });
});
