#!/usr/bin/env node
// Downloads a dataset's official files and verifies their published checksums.
//   node datasets/download.js <fashion-mnist|mnist|cifar10> [dir]
// dir defaults to datasets/cache/<name> ($WGNAS_DATA_DIR/<name> when set). Needs `npm run build` first.
import { existsSync } from 'node:fs';

const lib = new URL('../dist/src/data/index.js', import.meta.url);
if (!existsSync(lib)) {
  console.error('wgnas is not built: run `npm run build` in the wgnas folder first');
  process.exit(1);
}
const { downloadDataset, DATASET_NAMES } = await import(lib.href);
const [name, dir] = process.argv.slice(2);
if (!DATASET_NAMES.includes(name)) {
  console.error(`usage: node datasets/download.js <${DATASET_NAMES.join('|')}> [dir]`);
  process.exit(2);
}
try {
  const files = await downloadDataset(name, dir, { log: (line) => console.log(line) });
  console.log(`${name}: ${files.length} files ready:\n  ${files.join('\n  ')}`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
