/**
 * `wgnas train`: trains a small CNN entirely on the GPU and evaluates it on the test split.
 *   node bin/wgnas.js train [--dataset fashion-mnist|mnist|cifar10] [--epochs N] [--batch-size B] ...
 */
import { z } from 'zod';
import { DATASET_NAMES } from '../data/dataset.js';
import { GpuDataset } from '../data/gpu-dataset.js';
import { SmallCnn } from '../nn/models.js';
import { evaluate, trainClassifier } from '../nn/train.js';
import { openDevice } from '../tensor/device.js';
import { flag, parseArgs } from './args.js';
import { progress } from './progress.js';

const USAGE = 'usage: wgnas train [--adapter A] [--dataset fashion-mnist|mnist|cifar10] [--data-dir DIR] [--epochs N] [--batch-size B] [--optimizer sgd|adam] [--lr X] [--width W] [--train-subset N] [--seed S] [--json]';

const Flags = z.object({
  adapter: flag.adapter(),
  dataset: z.enum(DATASET_NAMES).default('fashion-mnist'),
  dataDir: z.string().optional(),
  epochs: flag.int(1).default(3),
  batchSize: flag.int(1).default(64),
  optimizer: z.enum(['sgd', 'adam']).default('sgd'),
  lr: flag.num().positive().optional(),
  width: flag.int(1).default(16),
  hidden: flag.int(1).default(128),
  trainSubset: flag.int(1).optional(),
  seed: flag.int(0).default(1),
  json: flag.bool().default(false),
}).strict();

export async function trainCommand(argv: readonly string[]): Promise<void> {
  const o = parseArgs(argv, Flags, USAGE);
  const dev = await openDevice({ adapter: o.adapter });
  const log = progress();
  log.line(`adapter: ${dev.adapter.name} [${dev.adapter.kind}]`);
  const train = GpuDataset.load(dev, o.dataset, { split: 'train', dir: o.dataDir, limit: o.trainSubset, seed: o.seed, augment: o.dataset === 'cifar10' ? { pad: 4, flip: true } : undefined });
  const test = GpuDataset.load(dev, o.dataset, { split: 'test', dir: o.dataDir });
  log.line(`${o.dataset}: ${train.n} train / ${test.n} test images, ${train.c}×${train.h}×${train.w}`);
  const model = new SmallCnn(dev, { inChannels: train.c, h: train.h, w: train.w, classes: 10, width: o.width, hidden: o.hidden, seed: o.seed });
  const lr = o.lr ?? (o.optimizer === 'adam' ? 2e-3 : 0.05);
  const r = await trainClassifier(model, train, { epochs: o.epochs, batchSize: o.batchSize, optimizer: o.optimizer, lr, augment: o.dataset === 'cifar10', log: (l, final) => log.update(l, final) });
  const ev = await evaluate(model, test, 256);
  const result = {
    dataset: o.dataset,
    adapter: dev.adapter.name,
    params: model.numParameters(),
    epochs: o.epochs,
    train_images: train.n,
    test_accuracy: ev.accuracy,
    test_loss: ev.loss,
    train_images_per_second: r.imagesPerSecond,
    train_seconds: r.seconds,
    peak_gpu_bytes: r.peakLiveBytes,
    reserved_gpu_bytes: dev.memory.peakReservedBytes,
  };
  if (o.json) console.log(JSON.stringify(result, null, 2));
  else log.line(`test accuracy ${(100 * ev.accuracy).toFixed(2)}%  (${result.params} parameters, ${r.imagesPerSecond.toFixed(0)} train img/s, peak GPU memory ${(r.peakLiveBytes / 2 ** 20).toFixed(1)} MiB live / ${(result.reserved_gpu_bytes / 2 ** 20).toFixed(1)} MiB reserved)`);
  train.dispose();
  test.dispose();
  model.dispose();
  dev.destroy();
}
