/**
 * The kernel-variant cache of ONE adapter: for an op call's key (op, pass and exact shape; the keys are
 * made in src/ops/tuning.ts), the variant the autotuner (src/ops/autotune.ts) found fastest on this
 * adapter after checking it against the naive kernel, with the timings it saw.
 *
 * File (JSON): `{ version: 1, adapter: { vendor, architecture, device, description }, updatedAt,
 * entries: { <key>: { variant, default, ms: { <variant>: median ms }, rejected?: { <variant>: why },
 * source } } }`. The identity is GPUAdapterInfo's; Dawn's `description` carries the driver and its
 * version (e.g. "llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)"), so a driver update starts a new cache.
 *
 * Location: `$WGNAS_CACHE_DIR/autotune/<adapter>.json`, else `$XDG_CACHE_HOME/wgnas/autotune/` (default
 * `~/.cache/wgnas/autotune/`), where <adapter> is a file-safe name plus a hash of the full identity.
 *
 * Loading validates with zod: a file that is not JSON, not a cache of this version, or made on another
 * adapter is ignored with a warning, never trusted. Saving writes a temporary file beside the target and
 * renames it over (atomic on POSIX). A cache only NAMES variants: the op reading an entry checks that
 * the variant is legal for the shape before dispatching it (src/ops/tuning.ts).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonChecked, zodIssues } from './atomic-file.js';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { AdapterDescription } from './adapters.js';
import { WgnasError } from './errors.js';

export const TUNING_CACHE_VERSION = 1;

/** Which adapter (and driver) a cache was tuned on. */
export type AdapterIdentity = Pick<AdapterDescription, 'vendor' | 'architecture' | 'device' | 'description'>;

const entrySchema = z.object({
  /** the variant to run */
  variant: z.string().min(1),
  /** the shape-class rule's choice, for reports */
  default: z.string().min(1),
  /** median GPU ms of every variant that passed the check */
  ms: z.record(z.string(), z.number().nonnegative()),
  /** variants that failed the check or could not run, with why */
  rejected: z.record(z.string(), z.string()).optional(),
  source: z.enum(['timestamp', 'wall']),
});

const fileSchema = z.object({
  version: z.literal(TUNING_CACHE_VERSION),
  adapter: z.object({ vendor: z.string(), architecture: z.string(), device: z.string(), description: z.string() }),
  updatedAt: z.string().optional(),
  entries: z.record(z.string(), entrySchema),
});

export type TuningEntry = z.infer<typeof entrySchema>;

export function adapterIdentity(a: AdapterIdentity): AdapterIdentity {
  return { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description };
}

function sameAdapter(a: AdapterIdentity, b: AdapterIdentity): boolean {
  return a.vendor === b.vendor && a.architecture === b.architecture && a.device === b.device && a.description === b.description;
}

function describeAdapter(a: AdapterIdentity): string {
  return `"${a.description || a.device}" (vendor ${a.vendor}, architecture ${a.architecture})`;
}

/** A file-safe name for an adapter: readable part + 8 hex digits of a hash of the whole identity. */
export function adapterFileName(a: AdapterIdentity): string {
  const slug = `${a.vendor}-${a.device || a.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'adapter';
  const hash = createHash('sha256').update(JSON.stringify(adapterIdentity(a))).digest('hex').slice(0, 8);
  return `${slug}-${hash}.json`;
}

/** Where the cache of an adapter lives (module comment). */
export function tuningCachePath(a: AdapterIdentity, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.WGNAS_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wgnas');
  return join(root, 'autotune', adapterFileName(a));
}

/** openDevice({ autotune }) wins; otherwise on unless WGNAS_AUTOTUNE=0. */
export function autotuneEnabled(option: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return option ?? env.WGNAS_AUTOTUNE !== '0';
}

export class TuningCache {
  /** lookups answered from the cache (the op ran the cached variant) */
  hits = 0;
  /** keys whose cached variant was illegal for the shape (ignored; warned once each) */
  readonly ignored = new Set<string>();

  /** path: the file it was loaded from, if any */
  constructor(readonly adapter: AdapterIdentity, readonly entries: Record<string, TuningEntry> = {}, readonly path?: string) {}

  variant(key: string): string | undefined {
    return this.entries[key]?.variant;
  }

  set(key: string, entry: TuningEntry): void {
    const parsed = entrySchema.safeParse(entry);
    if (!parsed.success) throw new WgnasError(`tuning cache entry ${key} is invalid: ${zodIssues(parsed.error, 4)}`);
    this.entries[key] = parsed.data;
  }

  get size(): number {
    return Object.keys(this.entries).length;
  }
}

export type Warn = (message: string) => void;
const warnConsole: Warn = (m) => console.warn(`wgnas: ${m}`);

/**
 * The cache of `adapter` at `path`, or undefined when there is none or it cannot be trusted (not JSON,
 * wrong version or schema, another adapter's): those are ignored with a warning naming the file.
 */
export function loadTuningCache(adapter: AdapterIdentity, path: string = tuningCachePath(adapter), warn: Warn = warnConsole): TuningCache | undefined {
  if (!existsSync(path)) return undefined;
  const ignore = (why: string): undefined => {
    warn(`ignoring kernel tuning cache ${path}: ${why}; variants are chosen by shape class (run \`wgnas tune\` to rebuild it)`);
    return undefined;
  };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    return ignore(`not JSON (${(e as Error).message})`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) return ignore(`not a version-${TUNING_CACHE_VERSION} tuning cache (${zodIssues(parsed.error, 4)})`);
  if (!sameAdapter(parsed.data.adapter, adapter)) {
    return ignore(`it was tuned on ${describeAdapter(parsed.data.adapter)}, not on the adapter in use, ${describeAdapter(adapter)}`);
  }
  return new TuningCache(adapterIdentity(parsed.data.adapter), parsed.data.entries, path);
}

/** Writes the cache: temporary file in the target's folder, then rename over the target. Returns the path. */
export function saveTuningCache(cache: TuningCache, path: string = tuningCachePath(cache.adapter)): string {
  const data = { version: TUNING_CACHE_VERSION, adapter: adapterIdentity(cache.adapter), updatedAt: new Date().toISOString(), entries: cache.entries };
  writeJsonChecked(path, fileSchema, data, `saveTuningCache(${path})`, 'cache', 4);
  return path;
}
