#!/usr/bin/env node
// kernels-bench entry point (the TypeScript is compiled to dist/ by `npm install` / `npm run build`).
const { benchMain } = await import(new URL('../dist/kernels-bench/bench.js', import.meta.url).href);
const { run } = await import(new URL('../dist/src/cli/main.js', import.meta.url).href);
process.exitCode = await run(() => benchMain(process.argv.slice(2)));
