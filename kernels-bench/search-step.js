#!/usr/bin/env node
// One search-network training step per sampler: time, peak GPU memory, per-kernel breakdown.
const { searchStepMain } = await import(new URL('../dist/kernels-bench/search-step.js', import.meta.url).href);
const { run } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
process.exitCode = await run(() => searchStepMain(process.argv.slice(2)));
