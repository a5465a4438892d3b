/**
 * Supervised training and evaluation of a classifier, entirely on the GPU: batches are gathered on
 * the GPU (GpuDataset), loss/accuracy are accumulated in GPU counters and read back only when the
 * progress line is refreshed and at the end of an epoch.
 */
import type { GpuDataset } from '../data/gpu-dataset.js';
import { accuracy, crossEntropy } from '../ops/loss.js';
import { Adam, SGD } from '../ops/optim.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from './module.js';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  optimizer: 'sgd' | 'adam';
  lr: number;
  momentum?: number;
  weightDecay?: number;
  /** cosine annealing to 0 over all steps (default) or constant */
  schedule?: 'cosine' | 'constant';
  augment?: boolean;
  /** progress lines (epoch, step, loss, accuracy, images/s) */
  log?: (line: string, final: boolean) => void;
  /** steps between progress refreshes (each is one readback) */
  logEvery?: number;
  /** called after each epoch (checkpoints) */
  onEpoch?: (epoch: number, stats: EpochStats) => Promise<void> | void;
  startEpoch?: number;
}

export interface EpochStats {
  epoch: number;
  loss: number;
  accuracy: number;
  images: number;
  seconds: number;
}

export interface TrainResult {
  epochs: EpochStats[];
  imagesPerSecond: number;
  peakLiveBytes: number;
  seconds: number;
}

export function cosineLr(base: number, step: number, total: number): number {
  return 0.5 * base * (1 + Math.cos((Math.PI * Math.min(step, total)) / Math.max(1, total)));
}

/** GPU counters [1] for loss sum and correct count over an epoch. */
export class EpochMeter {
  readonly lossSum: Tensor;
  readonly correct: Tensor;
  images = 0;
  batches = 0;
  constructor(readonly dev: Device) {
    this.lossSum = dev.zeros([1], { persistent: true, label: 'loss-sum' });
    this.correct = dev.zeros([1], { persistent: true, label: 'correct' });
  }
  add(loss: Tensor, logits: Tensor, labels: Tensor): void {
    this.dev.accumulate(this.lossSum, loss);
    this.dev.accumulate(this.correct, accuracy(logits, labels));
    this.images += labels.size;
    this.batches++;
  }
  async read(): Promise<{ loss: number; accuracy: number }> {
    const [l, c] = [await this.lossSum.item(), await this.correct.item()];
    return { loss: l / Math.max(1, this.batches), accuracy: c / Math.max(1, this.images) };
  }
  reset(): void {
    this.dev.fillBuffer(this.lossSum, 0);
    this.dev.fillBuffer(this.correct, 0);
    this.images = 0;
    this.batches = 0;
  }
  dispose(): void {
    this.lossSum.dispose();
    this.correct.dispose();
  }
}

export function makeOptimizer(params: Tensor[], o: Pick<TrainOptions, 'optimizer' | 'lr' | 'momentum' | 'weightDecay'>): SGD | Adam {
  return o.optimizer === 'adam'
    ? new Adam(params, { lr: o.lr, weightDecay: o.weightDecay ?? 0 })
    : new SGD(params, { lr: o.lr, momentum: o.momentum ?? 0.9, weightDecay: o.weightDecay ?? 5e-4 });
}

export async function evaluate(model: Module, ds: GpuDataset, batchSize: number): Promise<{ loss: number; accuracy: number }> {
  const dev = model.dev;
  model.eval();
  ds.ordered();
  const meter = new EpochMeter(dev);
  const n = ds.batchCount(batchSize);
  for (let b = 0; b < n; b++) {
    dev.tidy(() => dev.noGrad(() => {
      const { x, y } = ds.batch(b * batchSize, Math.min(batchSize, ds.n - b * batchSize));
      const logits = model.forward(x);
      meter.add(crossEntropy(logits, y), logits, y);
    }));
  }
  const r = await meter.read();
  meter.dispose();
  model.train();
  return r;
}

export async function trainClassifier(model: Module, ds: GpuDataset, opts: TrainOptions, opt = makeOptimizer(model.parameters(), opts)): Promise<TrainResult> {
  const dev = model.dev;
  model.train();
  const steps = ds.batchCount(opts.batchSize, true);
  const total = steps * opts.epochs;
  const meter = new EpochMeter(dev);
  const logEvery = opts.logEvery ?? 50;
  const epochs: EpochStats[] = [];
  await dev.sync();
  dev.alloc.resetPeak();
  const t0 = performance.now();
  let images = 0;
  for (let epoch = opts.startEpoch ?? 0; epoch < opts.epochs; epoch++) {
    ds.shuffle(epoch);
    meter.reset();
    const te = performance.now();
    for (let s = 0; s < steps; s++) {
      const step = epoch * steps + s;
      opt.lr = opts.schedule === 'constant' ? opts.lr : cosineLr(opts.lr, step, total);
      await dev.tidy(async () => {
        const { x, y } = ds.batch(s * opts.batchSize, opts.batchSize, { augment: opts.augment });
        const logits = model.forward(x);
        const loss = crossEntropy(logits, y);
        meter.add(loss, logits, y);
        opt.zeroGrad();
        await loss.backward();
        opt.step();
      });
      await dev.throttle();
      images += opts.batchSize;
      if (opts.log && ((s + 1) % logEvery === 0 || s === steps - 1)) {
        const m = await meter.read();
        const secs = (performance.now() - te) / 1000;
        opts.log(`epoch ${epoch + 1}/${opts.epochs}  step ${s + 1}/${steps}  loss ${m.loss.toFixed(4)}  acc ${(100 * m.accuracy).toFixed(2)}%  ${(meter.images / secs).toFixed(0)} img/s  lr ${opt.lr.toExponential(2)}`, s === steps - 1);
      }
    }
    const m = await meter.read();
    const stats = { epoch, loss: m.loss, accuracy: m.accuracy, images: meter.images, seconds: (performance.now() - te) / 1000 };
    epochs.push(stats);
    await opts.onEpoch?.(epoch, stats);
  }
  await dev.sync();
  meter.dispose();
  const seconds = (performance.now() - t0) / 1000;
  return { epochs, imagesPerSecond: images / seconds, peakLiveBytes: dev.memory.peakLiveBytes, seconds };
}
