#!/usr/bin/env node
// Architecture search CLI: `node search.js --help`. Compiled TypeScript lives in dist/ (npm install builds it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('./dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  console.error('wgnas is not built yet: run `npm install` (or `npm run build`) first.');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(['search', ...process.argv.slice(2)]);
