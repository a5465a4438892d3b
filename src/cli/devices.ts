/** `wgnas devices [--json]`: every WebGPU adapter with identity, kind, features and limits. */
import { z } from 'zod';
import { listAdapters } from '../gpu/adapters.js';
import { AdapterError, NO_ADAPTER_HELP } from '../gpu/errors.js';
import { flag, parseArgs } from './args.js';

const USAGE = 'usage: wgnas devices [--json]';

export async function devicesCommand(argv: readonly string[]): Promise<void> {
  const opts = parseArgs(argv, z.object({ json: flag.bool().default(false) }).strict(), USAGE);
  const all = await listAdapters();
  if (all.length === 0) throw new AdapterError(`No WebGPU adapter found.\n${NO_ADAPTER_HELP}`);
  if (opts.json) {
    console.log(JSON.stringify(all.map((a) => a.info), null, 2));
    return;
  }
  for (const { info } of all) {
    console.log(`${info.name}`);
    console.log(`  kind          ${info.kind}${info.isFallbackAdapter ? ' (fallback adapter)' : ''}`);
    console.log(`  vendor        ${info.vendor || '-'}   architecture ${info.architecture || '-'}   device ${info.device || '-'}`);
    console.log(`  description   ${info.description}`);
    console.log(`  backend       ${info.backend}`);
    console.log(`  timestamp-query ${info.features.includes('timestamp-query') ? 'yes' : 'NO (profiler falls back to wall time)'}`);
    console.log(`  features      ${info.features.join(' ')}`);
    for (const [k, v] of Object.entries(info.limits)) console.log(`  ${k.padEnd(36)} ${v}`);
  }
}
