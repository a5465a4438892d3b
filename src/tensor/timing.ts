/**
 * GPU time of the dispatches a piece of code encodes, from the device's profiler: timestamp queries,
 * each dispatch in its own compute pass (where the adapter has no 'timestamp-query', the profiler times
 * each dispatch from submit to done and says so in its records' `source`). One sample is the SUM of the
 * dispatches of one call, so a pass that issues several kernels (weight packing + conv, partial sums +
 * their reduction) is timed whole. kernels-bench and the autotuner time with these.
 */
import type { Device } from './device.js';

/**
 * One profiled run of fn inside tidy (its tensors are freed): the sum of its dispatch times in ms, or NaN
 * if the profiler returned no record. Output poisoning (a test device) is off meanwhile, since those
 * fills would be timed too; the profiler's earlier records are kept.
 */
export async function timeOnce(dev: Device, fn: () => unknown): Promise<number> {
  const kept = dev.profiler.records;
  const poison = dev.poison;
  dev.profiler.records = [];
  dev.poison = false;
  try {
    await dev.profile(() => dev.tidy(() => { fn(); }));
    const recs = dev.profiler.records;
    return recs.length ? recs.reduce((a, r) => a + r.ms, 0) : NaN;
  } finally {
    dev.profiler.records = kept;
    dev.poison = poison;
  }
}

/** Times fn `repeats` times after `warmup` untimed runs (pipelines compiled, buffers cached); sorted samples. */
export async function timePass(dev: Device, fn: () => unknown, repeats: number, warmup: number): Promise<number[]> {
  for (let i = 0; i < warmup; i++) dev.tidy(() => { fn(); });
  await dev.sync();
  const samples: number[] = [];
  for (let r = 0; r < repeats; r++) samples.push(await timeOnce(dev, fn));
  return samples.sort((a, b) => a - b);
}
