/**
 * The latency look-up table (LUT): measured per-op latency on ONE adapter, keyed by the canonical
 * `opKey` (the single key function shared by profiler, predictor and search), persisted as JSON.
 *
 * Key format (exact; `parseOpKey` inverts it):
 *
 *     <op>|n=<n>|cin=<c_in>|cout=<c_out>|h=<h>|w=<w>|s=<stride>[|k=<kernel>]
 *
 * e.g. `nor_conv_3x3|n=1|cin=16|cout=16|h=32|w=32|s=1`. `op` is the snake_case op or primitive name
 * ([a-z0-9_]+); h and w are the INPUT spatial size; every number is a positive integer written in
 * decimal; `|k=` is present only when a kernel size is given (ops whose name does not fix it, e.g. a
 * generic `conv2d` or an MBConv block).
 *
 * The file: `{ version: 1, adapter: { vendor, architecture, description, device }, timeSource?,
 * createdAt?, entries: { <key>: { medianMs, p10Ms, p90Ms, count } } }`. Saving writes a temporary file
 * beside the target and renames it over (atomic on POSIX: a reader never sees a half-written table).
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeJsonChecked, zodIssues } from '../gpu/atomic-file.js';
import { z } from 'zod';
import { WgnasError } from '../gpu/errors.js';

/** The shape part of a LUT key. */
export interface OpShape {
  n: number;
  c_in: number;
  c_out: number;
  /** input height and width */
  h: number;
  w: number;
  stride: number;
  kernel?: number;
}

const OP_NAME = /^[a-z0-9_]+$/;
const SHAPE_FIELDS = [['n', 'n'], ['cin', 'c_in'], ['cout', 'c_out'], ['h', 'h'], ['w', 'w'], ['s', 'stride']] as const;

/** The canonical LUT key of an op at a shape (format in the module comment). */
export function opKey(op: string, shape: OpShape): string {
  if (!OP_NAME.test(op)) throw new WgnasError(`opKey: op name "${op}" must be snake_case ([a-z0-9_]+)`);
  const parts = [op];
  for (const [tag, field] of SHAPE_FIELDS) {
    const v = shape[field];
    if (!Number.isInteger(v) || v < 1) throw new WgnasError(`opKey(${op}): ${field} must be a positive integer, got ${v}`);
    parts.push(`${tag}=${v}`);
  }
  if (shape.kernel !== undefined) {
    if (!Number.isInteger(shape.kernel) || shape.kernel < 1) throw new WgnasError(`opKey(${op}): kernel must be a positive integer, got ${shape.kernel}`);
    parts.push(`k=${shape.kernel}`);
  }
  return parts.join('|');
}

/** Inverse of opKey; throws on anything opKey would not have written. */
export function parseOpKey(key: string): { op: string; shape: OpShape } {
  const parts = key.split('|');
  const bad = (why: string): never => {
    throw new WgnasError(`parseOpKey: "${key}" is not a LUT key (${why}); format: op|n=..|cin=..|cout=..|h=..|w=..|s=..[|k=..]`);
  };
  if (parts.length !== 7 && parts.length !== 8) bad(`${parts.length} fields`);
  const tags = [...SHAPE_FIELDS.map(([t]) => t), ...(parts.length === 8 ? ['k'] : [])];
  const nums: number[] = [];
  tags.forEach((tag, i) => {
    const m = /^([a-z]+)=([1-9][0-9]*)$/.exec(parts[i + 1]);
    if (!m || m[1] !== tag) bad(`field ${i + 1} should be ${tag}=<positive integer>`);
    nums.push(Number(m![2]));
  });
  const [n, c_in, c_out, h, w, stride, kernel] = nums;
  const shape: OpShape = { n, c_in, c_out, h, w, stride, ...(kernel !== undefined ? { kernel } : {}) };
  if (opKey(parts[0], shape) !== key) bad('not in canonical form');
  return { op: parts[0], shape };
}

/** Which adapter a LUT was measured on (the identity fields of GPUAdapterInfo). */
export interface AdapterIdentity {
  vendor: string;
  architecture: string;
  description: string;
  device: string;
}

const entrySchema = z.object({
  medianMs: z.number().nonnegative(),
  p10Ms: z.number().nonnegative(),
  p90Ms: z.number().nonnegative(),
  count: z.number().int().positive(),
});

const lutSchema = z.object({
  version: z.literal(1),
  adapter: z.object({ vendor: z.string(), architecture: z.string(), description: z.string(), device: z.string() }),
  timeSource: z.enum(['timestamp', 'wall']).optional(),
  createdAt: z.string().optional(),
  entries: z.record(z.string(), entrySchema),
});

export type LutEntry = z.infer<typeof entrySchema>;
export type LatencyLut = z.infer<typeof lutSchema>;

/** The identity part of an adapter description (extra fields are dropped). */
export function adapterIdentity(a: AdapterIdentity): AdapterIdentity {
  return { vendor: a.vendor, architecture: a.architecture, description: a.description, device: a.device };
}

export function sameAdapter(a: AdapterIdentity, b: AdapterIdentity): boolean {
  return a.vendor === b.vendor && a.architecture === b.architecture && a.description === b.description && a.device === b.device;
}

function describeAdapter(a: AdapterIdentity): string {
  return `vendor "${a.vendor}", architecture "${a.architecture}", description "${a.description}", device "${a.device}"`;
}

/** An empty LUT for an adapter. */
export function createLut(adapter: AdapterIdentity, timeSource?: 'timestamp' | 'wall'): LatencyLut {
  return { version: 1, adapter: adapterIdentity(adapter), ...(timeSource ? { timeSource } : {}), createdAt: new Date().toISOString(), entries: {} };
}

/** Sets (overwrites) the entry of an op at a shape; returns its key. */
export function setEntry(lut: LatencyLut, op: string, shape: OpShape, entry: LutEntry): string {
  const parsed = entrySchema.safeParse(entry);
  if (!parsed.success) throw new WgnasError(`LUT entry for ${opKey(op, shape)} is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const key = opKey(op, shape);
  lut.entries[key] = parsed.data;
  return key;
}

/** Median latency (ms) of an op at a shape, or undefined if the LUT has no entry. */
export function lutLatencyMs(lut: LatencyLut, op: string, shape: OpShape): number | undefined {
  return lut.entries[opKey(op, shape)]?.medianMs;
}

/** Writes the LUT as JSON: temporary file in the same folder, then rename over the target. */
export function saveLut(path: string, lut: LatencyLut): void {
  writeJsonChecked(path, lutSchema, lut, `saveLut(${path})`, 'LUT');
}

/**
 * Reads and validates a LUT. With `adapter`, the table must have been measured on that adapter:
 * another adapter's LUT is an error naming both (latencies do not transfer between devices).
 */
export function loadLut(path: string, adapter?: AdapterIdentity): LatencyLut {
  if (!existsSync(path)) throw new WgnasError(`loadLut: file not found: ${path}`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new WgnasError(`loadLut(${path}): not JSON: ${(e as Error).message}`);
  }
  const parsed = lutSchema.safeParse(json);
  if (!parsed.success) throw new WgnasError(`loadLut(${path}): not a valid latency LUT: ${zodIssues(parsed.error)}`);
  const lut = parsed.data;
  for (const key of Object.keys(lut.entries)) parseOpKey(key);
  if (adapter && !sameAdapter(lut.adapter, adapter)) {
    throw new WgnasError(`loadLut(${path}): this LUT was measured on another adapter (${describeAdapter(lut.adapter)}); ` +
      `the adapter in use is ${describeAdapter(adapter)}. Profile this adapter to build its own LUT.`);
  }
  return lut;
}

/** Ops that never cost time (the zero op); they need no LUT entry. */
export const ZERO_LATENCY_OPS: readonly string[] = ['none'];

/**
 * Latency (ms) of each candidate op of an edge at its shape: the coefficient vector of the edge's
 * expected latency Σ_k p_k·lat_k. A missing entry is an error naming its key.
 */
export function edgeLatencies(lut: LatencyLut, ops: readonly string[], shape: OpShape, zeroOps: readonly string[] = ZERO_LATENCY_OPS): number[] {
  return ops.map((op) => {
    if (zeroOps.includes(op)) return 0;
    const ms = lutLatencyMs(lut, op, shape);
    if (ms === undefined) throw new WgnasError(`LUT has no entry ${opKey(op, shape)} (adapter ${lut.adapter.description || lut.adapter.device}); profile it first`);
    return ms;
  });
}

/** One relaxed edge: candidate ops, their probabilities (e.g. softmax(α)) and the edge's input shape. */
export interface RelaxedEdge {
  ops: readonly string[];
  probs: ArrayLike<number>;
  shape: OpShape;
}

/** Expected latency (ms) of a relaxed cell, Σ_edges Σ_ops p(op)·lat(op), as a plain number. */
export function expectedLatencyMs(lut: LatencyLut, edges: readonly RelaxedEdge[], zeroOps: readonly string[] = ZERO_LATENCY_OPS): number {
  let total = 0;
  edges.forEach((e, ei) => {
    if (e.probs.length !== e.ops.length) throw new WgnasError(`expectedLatencyMs: edge ${ei} has ${e.ops.length} ops but ${e.probs.length} probabilities`);
    const lat = edgeLatencies(lut, e.ops, e.shape, zeroOps);
    for (let k = 0; k < lat.length; k++) {
      const p = e.probs[k];
      if (!Number.isFinite(p) || p < 0) throw new WgnasError(`expectedLatencyMs: edge ${ei} probability ${k} (${e.ops[k]}) is ${p}`);
      total += p * lat[k];
    }
  });
  return total;
}
