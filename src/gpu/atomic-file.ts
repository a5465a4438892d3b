/** Atomic file writes, shared by every layer that persists something (caches, tables, datasets). */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { z } from 'zod';
import { WgnasError } from './errors.js';

/**
 * Writes a file so that readers see either the old file or the complete new one (temp file, fsync,
 * rename): a crash or a kill leaves no torn file, and the data is on disk before the name points at it.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The first `max` problems of a failed zod parse, one line: `path: message; …; ... N more`. */
export function zodIssues(err: z.ZodError, max = 5): string {
  return err.issues.slice(0, max).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') +
    (err.issues.length > max ? `; ... ${err.issues.length - max} more` : '');
}

/**
 * Checks `data` against `schema` and writes it as JSON atomically; a failure of either is a WgnasError
 * starting with `what` (e.g. `saveLut(path)`), the schema's failure naming `kind` (`not a valid ${kind}`).
 */
export function writeJsonChecked<S extends z.ZodType>(path: string, schema: S, data: unknown, what: string, kind: string, maxIssues = 5): void {
  const checked = schema.safeParse(data);
  if (!checked.success) throw new WgnasError(`${what}: not a valid ${kind}: ${zodIssues(checked.error, maxIssues)}`);
  try {
    writeFileAtomic(path, `${JSON.stringify(checked.data, null, 1)}\n`);
  } catch (e) {
    throw new WgnasError(`${what}: ${(e as Error).message}`);
  }
}
