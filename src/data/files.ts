/**
 * File helpers of the data layer: the error type (messages name the file and the command that fixes
 * it), where caches live, gzip-aware reads and atomic writes (temp file + rename, so a crash or two
 * processes converting at once never leave a half-written cache file behind).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WgnasError } from '../gpu/errors.js';
import { shaderDir } from '../gpu/kernel.js';

/** A data file is missing, truncated, corrupt or fails its checksum. */
export class DatasetError extends WgnasError {}

/** Root of the dataset caches: $WGNAS_DATA_DIR, else datasets/cache/ at the package root (git-ignored). */
export function dataRoot(): string {
  return process.env.WGNAS_DATA_DIR || join(dirname(shaderDir()), 'datasets', 'cache');
}

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A file's bytes, gunzipped when they start with the gzip magic (whatever the file name says). */
export function readBytes(path: string): Uint8Array {
  const raw = readFileSync(path);
  const bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new DatasetError(`${path}: corrupt gzip data (${(e as Error).message}); delete the file and fetch it again`);
  }
}

export { writeFileAtomic } from '../gpu/atomic-file.js';

/** The first of `names` that exists in dir (undefined: none). */
export function findFile(dir: string, names: readonly string[]): string | undefined {
  for (const n of names) {
    const p = join(dir, n);
    if (existsSync(p)) return p;
  }
  return undefined;
}
