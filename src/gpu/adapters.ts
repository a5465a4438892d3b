/**
 * Adapter discovery and selection over Dawn's Node bindings (the `webgpu` package).
 *
 * Dawn's GPU object must stay referenced for as long as any adapter or device made from it lives:
 * when it is garbage-collected Dawn tears down the instance under live devices and the process
 * crashes (segfault / std::system_error). Every instance created here is pinned in INSTANCES for
 * the life of the process.
 */
import { create, globals } from 'webgpu';
import { AdapterError, NO_ADAPTER_HELP } from './errors.js';

export type AdapterKind = 'discrete' | 'integrated' | 'cpu' | 'unknown';
export type AdapterSpec = 'auto' | 'discrete' | 'integrated' | 'cpu' | (string & {});

export interface AdapterDescription {
  name: string;
  backend: string;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  kind: AdapterKind;
  isFallbackAdapter: boolean;
  features: string[];
  limits: Record<string, number>;
  subgroupMinSize?: number;
  subgroupMaxSize?: number;
}

export interface FoundAdapter {
  adapter: GPUAdapter;
  info: AdapterDescription;
}

const INSTANCES: GPU[] = [];
let globalsInstalled = false;

function ensureRuntime(): void {
  if (!process.env.XDG_RUNTIME_DIR) process.env.XDG_RUNTIME_DIR = '/tmp';
  if (!globalsInstalled) {
    Object.assign(globalThis, globals);
    globalsInstalled = true;
  }
}

/**
 * Dawn rounds timestamp queries to 2^16 ns (65.5 µs) by default ('timestamp_quantization', a browser
 * fingerprinting defence) — coarser than most single kernels; a profiler wants nanoseconds.
 */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

/** A Dawn instance, pinned for the process lifetime. */
function newInstance(flags: string[]): GPU {
  ensureRuntime();
  const gpu = create([...DAWN_FLAGS, ...flags]);
  INSTANCES.push(gpu);
  return gpu;
}

let defaultInstance: GPU | undefined;
function instance(): GPU {
  defaultInstance ??= newInstance([]);
  return defaultInstance;
}

const LIMIT_NAMES = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension', 'maxBindGroups', 'minStorageBufferOffsetAlignment',
] as const;

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|warp|microsoft basic render|software/i;

function classify(info: GPUAdapterInfo, hint: AdapterKind): AdapterKind {
  const text = `${info.vendor} ${info.architecture} ${info.device} ${info.description}`;
  if ((info as { isFallbackAdapter?: boolean }).isFallbackAdapter || info.architecture === 'software' || SOFTWARE.test(text)) {
    return 'cpu';
  }
  if (hint !== 'unknown') return hint;
  // Vendor heuristics when the power preferences did not tell two adapters apart.
  if (/nvidia/i.test(info.vendor)) return 'discrete';
  if (/intel/i.test(info.vendor)) return /arc|xe-hpg|alchemist|battlemage/i.test(text) ? 'discrete' : 'integrated';
  if (/apple|arm|qualcomm|imagination|mali|adreno/i.test(text)) return 'integrated';
  if (/amd|ati/i.test(info.vendor)) return /radeon\(tm\) graphics|radeon graphics|vega \d+ graphics/i.test(text) ? 'integrated' : 'discrete';
  return 'unknown';
}

export function describe(adapter: GPUAdapter, name: string, backend: string, hint: AdapterKind): AdapterDescription {
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of LIMIT_NAMES) limits[k] = Number((adapter.limits as unknown as Record<string, number>)[k]);
  return {
    name: name || info.description || info.device,
    backend,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    kind: classify(info, hint),
    isFallbackAdapter: Boolean((info as { isFallbackAdapter?: boolean }).isFallbackAdapter),
    features: [...adapter.features].map(String).sort(),
    limits,
    subgroupMinSize: (info as { subgroupMinSize?: number }).subgroupMinSize,
    subgroupMaxSize: (info as { subgroupMaxSize?: number }).subgroupMaxSize,
  };
}

/** Names and backends of every adapter Dawn sees (Dawn lists them when an adapter filter matches none). */
async function listNames(): Promise<{ name: string; backend: string }[]> {
  const probe = newInstance(['adapter=\u0001wgnas-no-such-adapter\u0001']);
  try {
    const a = await probe.requestAdapter();
    if (a) return [{ name: a.info.description, backend: 'unknown' }];
    return [];
  } catch (e) {
    const msg = String((e as Error).message ?? e);
    const out: { name: string; backend: string }[] = [];
    for (const m of msg.matchAll(/backend:\s*'([^']*)',\s*name:\s*'([^']*)'/g)) out.push({ backend: m[1], name: m[2] });
    return out;
  }
}

function key(info: GPUAdapterInfo): string {
  return `${info.vendor}|${info.architecture}|${info.device}|${info.description}`;
}

/** Every adapter present, each with vendor, architecture, kind, features and the limits that matter. */
export async function listAdapters(): Promise<FoundAdapter[]> {
  const gpu = instance();
  const hp = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const lp = await gpu.requestAdapter({ powerPreference: 'low-power' });
  const hints = new Map<string, AdapterKind>();
  if (hp && lp && key(hp.info) !== key(lp.info)) {
    hints.set(key(hp.info), 'discrete');
    hints.set(key(lp.info), 'integrated');
  }
  const found = new Map<string, FoundAdapter>();
  const names = await listNames();
  for (const { name, backend } of names) {
    let a: GPUAdapter | null = null;
    try {
      a = await newInstance([`adapter=${name}`, ...(backend !== 'unknown' ? [`backend=${backend}`] : [])]).requestAdapter();
    } catch {
      a = null; // listed but not usable for WebGPU (e.g. an old driver): skipped below, reported by name
    }
    if (!a) continue;
    const k = key(a.info);
    if (!found.has(k)) found.set(k, { adapter: a, info: describe(a, name, backend, hints.get(k) ?? 'unknown') });
  }
  for (const a of [hp, lp, await gpu.requestAdapter({ forceFallbackAdapter: true })]) {
    if (!a) continue;
    const k = key(a.info);
    if (!found.has(k)) found.set(k, { adapter: a, info: describe(a, a.info.description, 'unknown', hints.get(k) ?? 'unknown') });
  }
  return [...found.values()];
}

const KIND_ORDER: AdapterKind[] = ['discrete', 'integrated', 'unknown', 'cpu'];

/**
 * Picks an adapter: `auto` = best present (discrete > integrated > cpu); a kind; or a case-insensitive
 * substring of the adapter's name/description. Never falls back silently: an absent kind is an error
 * listing what is present.
 */
export async function selectAdapter(spec: AdapterSpec = 'auto'): Promise<FoundAdapter> {
  const all = await listAdapters();
  if (all.length === 0) {
    throw new AdapterError(`No WebGPU adapter found.\n${NO_ADAPTER_HELP}`);
  }
  const present = all.map((a) => `  - ${a.info.name} [${a.info.kind}, ${a.info.vendor}/${a.info.architecture}]`).join('\n');
  if (spec === 'auto') {
    return [...all].sort((a, b) => KIND_ORDER.indexOf(a.info.kind) - KIND_ORDER.indexOf(b.info.kind))[0];
  }
  if (spec === 'discrete' || spec === 'integrated' || spec === 'cpu') {
    const hit = all.find((a) => a.info.kind === spec);
    if (!hit) throw new AdapterError(`No ${spec} WebGPU adapter present. Adapters present:\n${present}\nUse --adapter auto, a kind that is present, or part of an adapter's name.`);
    return hit;
  }
  const needle = spec.toLowerCase();
  const hit = all.find((a) => `${a.info.name} ${a.info.description} ${a.info.device}`.toLowerCase().includes(needle));
  if (!hit) throw new AdapterError(`No WebGPU adapter matches "${spec}". Adapters present:\n${present}`);
  return hit;
}
