/**
 * Training and evaluation of the GNN latency predictor (predictor.ts), seeded end to end: the initial
 * weights come from the config's seed, the minibatch order from the training seed.
 *
 * Data path: arch strings → node features on the host (graph.ts encoding, bookkeeping) → each minibatch
 * uploaded as [B, n, F] + its normalised targets [B, 1] → forward, MSE loss, backward, Adam step, all on
 * the GPU. The loss is summed on the GPU and read back once per logged epoch. Inference is batched in
 * chunks under noGrad; only the final predictions come back.
 *
 * Loss: mean squared error of the normalised target z (see TargetNorm). Learning rate: cosine decay from
 * `lr` to 0 over the run (Adam, L2 weight decay). Defaults (DEFAULT_TRAIN, defaultEpochs): batch 64,
 * lr 5e-3, weight decay 1e-3, about 1000 steps whatever N (N = 1000: 63 epochs; N = 100: 500). Measured
 * on HW-NAS-Bench: width 64 instead of 32 changed Spearman by <= 0.004 at N = 1000 (edgegpu, raspi4) at
 * about twice the time; weight decay 1e-3 gained 0.002–0.01 at N = 100 (3 seeds, raspi4/pixel3) and was neutral at N = 1000.
 */
import { WgnasError } from '../gpu/errors.js';
import { mean, mul, sub } from '../ops/elementwise.js';
import { Adam } from '../ops/optim.js';
import { seededRandom } from '../tensor/host-random.js';
import type { Tensor } from '../tensor/tensor.js';
import { predictorMetrics, type PredictorMetrics } from './metrics.js';
import type { Device } from '../tensor/device.js';
import { DEFAULT_PREDICTOR, encodeArch, GnnPredictor, type PredictorConfig, type TargetNorm, type TargetTransform } from './predictor.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** seed of the minibatch order */
  seed: number;
  /** called every `logEvery` epochs (and after the last) with the mean training loss of that epoch */
  log?: (epoch: number, loss: number) => void;
  logEvery?: number;
}

export const DEFAULT_TRAIN: Omit<TrainOptions, 'seed' | 'epochs'> = { batchSize: 64, lr: 5e-3, weightDecay: 1e-3 };

/** Default training length: about `steps` Adam steps whatever the training-set size (>= 1 epoch). */
export const DEFAULT_STEPS = 1000;

export function defaultEpochs(nTrain: number, batchSize: number, steps = DEFAULT_STEPS): number {
  return Math.max(1, Math.round(steps / Math.ceil(nTrain / Math.min(batchSize, Math.max(1, nTrain)))));
}

export interface TrainResult {
  seconds: number;
  steps: number;
  /** mean training loss (normalised units) of the last epoch */
  finalLoss: number;
}

/** Normalisation of training targets: mean and (population) std of t(latency). */
export function fitTargetNorm(latency: ArrayLike<number>, transform: TargetTransform): TargetNorm {
  if (latency.length === 0) throw new WgnasError('fitTargetNorm: no training targets');
  const t = Array.from(latency, (v) => {
    if (!(v >= 0) || (transform === 'log' && v === 0)) throw new WgnasError(`fitTargetNorm: latency ${v} cannot be normalised with transform '${transform}'`);
    return transform === 'log' ? Math.log(v) : v;
  });
  const m = t.reduce((a, b) => a + b, 0) / t.length;
  const sd = Math.sqrt(t.reduce((a, b) => a + (b - m) ** 2, 0) / t.length);
  return { transform, mean: m, std: sd > 0 ? sd : 1 };
}

/** z = (t(latency) − mean) / std, as float32 (host bookkeeping on the labels). */
export function normalizeTargets(latency: ArrayLike<number>, norm: TargetNorm): Float32Array {
  return Float32Array.from(latency, (v) => ((norm.transform === 'log' ? Math.log(v) : v) - norm.mean) / norm.std);
}

/** Node features of many archs of the predictor's space, [N, n, F] flattened. */
export function encodeArchs(pred: GnnPredictor, archs: readonly string[]): Float32Array {
  const per = pred.nodes * pred.features;
  const x = new Float32Array(archs.length * per);
  archs.forEach((a, i) => x.set(encodeArch(a, pred.graphs), i * per));
  return x;
}

function gatherRows(src: Float32Array, per: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * per);
  idx.forEach((r, i) => out.set(src.subarray(r * per, (r + 1) * per), i * per));
  return out;
}

function shuffled(n: number, rand: () => number): number[] {
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [p[i], p[j]] = [p[j], p[i]];
  }
  return p;
}

/** Mean squared error of z [B, 1] against targets [B, 1] → [1]. */
export function mseLoss(z: Tensor, target: Tensor): Tensor {
  const d = sub(z, target);
  return mean(mul(d, d));
}

/**
 * Trains `pred` on node features x ([N, n, F] flattened, see encodeArchs) and latencies (ms); the
 * targets are normalised with pred.cfg.norm.
 */
export async function trainPredictor(pred: GnnPredictor, x: Float32Array, latency: ArrayLike<number>, o: TrainOptions): Promise<TrainResult> {
  const dev = pred.dev;
  const per = pred.nodes * pred.features;
  const N = latency.length;
  if (x.length !== N * per) throw new WgnasError(`trainPredictor: ${x.length} feature values for ${N} targets (want ${N}×${pred.nodes}×${pred.features})`);
  if (N === 0) throw new WgnasError('trainPredictor: no training architectures');
  if (!(o.epochs >= 1 && o.batchSize >= 1 && o.lr > 0)) throw new WgnasError(`trainPredictor: need epochs >= 1, batchSize >= 1, lr > 0 (got ${o.epochs}, ${o.batchSize}, ${o.lr})`);
  const z = normalizeTargets(latency, pred.cfg.norm);
  const rand = seededRandom(o.seed);
  const opt = new Adam(pred.parameters(), { lr: o.lr, weightDecay: o.weightDecay });
  const lossSum = dev.zeros([1], { persistent: true, label: 'predictor-loss-sum' });
  const perEpoch = Math.ceil(N / Math.min(o.batchSize, N));
  const total = o.epochs * perEpoch;
  const logEvery = o.logEvery ?? 0;
  let steps = 0;
  let finalLoss = NaN;
  const t0 = performance.now();
  pred.train();
  try {
    for (let epoch = 1; epoch <= o.epochs; epoch++) {
      const order = shuffled(N, rand);
      const wantLoss = epoch === o.epochs || (logEvery > 0 && epoch % logEvery === 0);
      if (wantLoss) dev.fillBuffer(lossSum, 0);
      for (let s = 0; s < N; s += o.batchSize) {
        const idx = order.slice(s, s + o.batchSize);
        opt.lr = 0.5 * o.lr * (1 + Math.cos((Math.PI * steps) / total));
        opt.zeroGrad();
        await dev.tidy(async () => {
          const xb = dev.tensor(gatherRows(x, per, idx), [idx.length, pred.nodes, pred.features]);
          const zb = dev.tensor(Float32Array.from(idx, (i) => z[i]), [idx.length, 1]);
          const loss = mseLoss(pred.forward(xb), zb).retain();
          await loss.backward();
          if (wantLoss) dev.accumulate(lossSum, loss);
        });
        opt.step();
        steps++;
      }
      if (wantLoss) {
        finalLoss = (await lossSum.item()) / perEpoch;
        if (!Number.isFinite(finalLoss)) throw new WgnasError(`trainPredictor: training loss became ${finalLoss} at epoch ${epoch} (try a lower --lr)`);
        o.log?.(epoch, finalLoss);
      } else {
        // bound the queued work: lavapipe/Dawn crash when thousands of submits are left in flight
        await dev.sync();
      }
    }
    await dev.sync();
  } finally {
    opt.dispose();
    lossSum.dispose();
    pred.eval();
  }
  return { seconds: (performance.now() - t0) / 1000, steps, finalLoss };
}

/** Normalised predictions z for node features x ([N, n, F] flattened), batched under noGrad. */
export async function predictNormalized(pred: GnnPredictor, x: Float32Array, chunk = 4096): Promise<Float32Array> {
  const dev = pred.dev;
  const per = pred.nodes * pred.features;
  const N = x.length / per;
  const out = new Float32Array(N);
  for (let s = 0; s < N; s += chunk) {
    const b = Math.min(chunk, N - s);
    const part = await dev.tidy(async () => {
      const zb = dev.noGrad(() => pred.forward(dev.tensor(x.subarray(s * per, (s + b) * per), [b, pred.nodes, pred.features])));
      return zb.read();
    });
    out.set(part, s);
  }
  return out;
}

/** Predicted latencies (ms) of arch strings. */
export async function predictLatencies(pred: GnnPredictor, archs: readonly string[]): Promise<Float64Array> {
  return pred.denormalizeHost(await predictNormalized(pred, encodeArchs(pred, archs)));
}

/** Metrics of the predictor on held-out architectures (truth in ms). */
export async function evaluatePredictor(pred: GnnPredictor, archs: readonly string[], truth: ArrayLike<number>): Promise<PredictorMetrics & { seconds: number }> {
  const t0 = performance.now();
  const p = await predictLatencies(pred, archs);
  return { ...predictorMetrics(p, truth), seconds: (performance.now() - t0) / 1000 };
}

/**
 * A predictor with the default architecture, trained on (arch, latency) rows: the one recipe shared by
 * `wgnas predictor train` and the search's `--hardware table:FILE:COLUMN`. Space nb201 unless `space`
 * (and, for darts and mbconv, the measured network `net`) say otherwise.
 */
export async function fitPredictor(dev: Device, rows: readonly { arch: string; value: number }[], o: Partial<Pick<PredictorConfig, 'layers' | 'hidden' | 'space' | 'net'>> & Partial<Omit<TrainOptions, 'epochs'>> & {
  seed: number;
  epochs?: number;
  transform?: TargetTransform;
  log?: TrainOptions['log'];
  logEvery?: number;
}): Promise<{ pred: GnnPredictor; cfg: PredictorConfig; train: TrainOptions; result: TrainResult }> {
  const cfg: PredictorConfig = {
    ...DEFAULT_PREDICTOR, ...(o.space ? { space: o.space } : {}), ...(o.net ? { net: o.net } : {}),
    ...(o.layers ? { layers: o.layers } : {}), ...(o.hidden ? { hidden: o.hidden } : {}), seed: o.seed,
    norm: fitTargetNorm(rows.map((r) => r.value), o.transform ?? 'linear'),
  };
  const pred = new GnnPredictor(dev, cfg);
  const batchSize = o.batchSize ?? DEFAULT_TRAIN.batchSize;
  const train: TrainOptions = { ...DEFAULT_TRAIN, ...o, batchSize, epochs: o.epochs ?? defaultEpochs(rows.length, batchSize), seed: o.seed };
  const result = await trainPredictor(pred, encodeArchs(pred, rows.map((r) => r.arch)), rows.map((r) => r.value), train);
  return { pred, cfg, train, result };
}
