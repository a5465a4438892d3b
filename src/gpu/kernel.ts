/**
 * Kernel system: WGSL in shaders/ is the source of truth. Each shader file is reflected with
 * wgsl_reflect once; bind-group layouts are built from what each entry point declares, uniforms are
 * packed by member name from the reflected struct layout, and pipelines are cached by
 * (shader, entry point, override constants) — never by shape: shapes travel in uniforms.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WgslReflect } from 'wgsl_reflect/wgsl_reflect.module.js';
import { KernelError } from './errors.js';

export type ParamValue = number | readonly number[];
export type Params = Record<string, ParamValue>;
export type Overrides = Record<string, number>;

export interface BindingInfo {
  name: string;
  binding: number;
  type: 'uniform' | 'storage' | 'read-only-storage';
}

interface UniformMember { name: string; offset: number; scalar: 'f32' | 'u32' | 'i32'; count: number }

export interface EntryInfo {
  shader: string;
  entry: string;
  bindings: BindingInfo[];
  uniform?: { name: string; size: number; members: UniformMember[] };
  workgroupSize: number[];
  overrides: string[];
}

let shaderDirCache: string | undefined;
/** shaders/ at the package root, found from this file whether it runs from src/ (tests) or dist/src/. */
export function shaderDir(): string {
  if (shaderDirCache) return shaderDirCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'shaders')) && existsSync(join(dir, 'package.json'))) {
      shaderDirCache = join(dir, 'shaders');
      return shaderDirCache;
    }
    dir = dirname(dir);
  }
  throw new KernelError(`cannot find the shaders/ folder above ${fileURLToPath(import.meta.url)}`);
}

/** `//!include NAME.wgsl` on a line of its own: replaced by that shader file's text (declarations shared by a family). */
const INCLUDE = /^\/\/!include ([\w.-]+\.wgsl)[ \t]*$/gm;

function readShader(file: string, from: readonly string[]): string {
  if (from.includes(file)) throw new KernelError(`shaders/${from[0]}: include cycle ${[...from, file].join(' → ')}`);
  const path = join(shaderDir(), file);
  if (!existsSync(path)) throw new KernelError(`shader file not found: shaders/${file}${from.length ? ` (included by shaders/${from[from.length - 1]})` : ''}`);
  return readFileSync(path, 'utf8').replace(INCLUDE, (_, inc: string) => readShader(inc, [...from, file]));
}

const sourceCache = new Map<string, string>();
/** The WGSL of a shader file with its includes expanded (compile errors count lines of this text). */
export function shaderSource(file: string): string {
  let code = sourceCache.get(file);
  if (code === undefined) {
    code = readShader(file, []);
    sourceCache.set(file, code);
  }
  return code;
}

function scalarOf(t: { name: string; format?: { name: string } | null }): 'f32' | 'u32' | 'i32' | undefined {
  const s = /^(vec\d)$/.test(t.name) || t.name === 'array' ? t.format?.name : t.name;
  if (s === 'f32' || s === 'u32' || s === 'i32') return s;
  if (/^vec\d[fiu]$/.test(t.name)) return ({ f: 'f32', i: 'i32', u: 'u32' } as const)[t.name[4] as 'f' | 'i' | 'u'];
  return undefined;
}

const reflectCache = new Map<string, Map<string, EntryInfo>>();

/** Reflects every compute entry point of a shader file (cached per source text). */
export function reflectShader(file: string, code: string = shaderSource(file)): Map<string, EntryInfo> {
  const cacheKey = `${file}\u0000${code}`;
  const hit = reflectCache.get(cacheKey);
  if (hit) return hit;
  let refl: WgslReflect;
  try {
    refl = new WgslReflect(code);
  } catch (e) {
    throw new KernelError(`shaders/${file}: WGSL parse error (wgsl_reflect): ${(e as Error).message ?? e}`);
  }
  const out = new Map<string, EntryInfo>();
  for (const fn of refl.entry.compute) {
    const bindings: BindingInfo[] = [];
    let uniform: EntryInfo['uniform'];
    for (const r of fn.resources) {
      if (r.group !== 0) throw new KernelError(`shaders/${file}:${fn.name}: binding ${r.name} uses group ${r.group}; wgnas kernels use group 0 only`);
      if (r.resourceType === 0) {
        bindings.push({ name: r.name, binding: r.binding, type: 'uniform' });
        const members: UniformMember[] = [];
        for (const m of (r.type as unknown as { members?: { name: string; offset: number; size: number; type: { name: string; format?: { name: string } | null; count?: number } }[] }).members ?? []) {
          const scalar = scalarOf(m.type);
          if (!scalar) throw new KernelError(`shaders/${file}:${fn.name}: uniform member ${m.name} has unsupported type ${m.type.name}`);
          members.push({ name: m.name, offset: m.offset, scalar, count: m.size / 4 });
        }
        uniform = { name: r.name, size: Math.max(16, Math.ceil(r.type.size / 16) * 16), members };
      } else if (r.resourceType === 1) {
        bindings.push({ name: r.name, binding: r.binding, type: r.access === 'read' ? 'read-only-storage' : 'storage' });
      } else {
        throw new KernelError(`shaders/${file}:${fn.name}: resource ${r.name} is not a buffer; wgnas kernels bind buffers only`);
      }
    }
    bindings.sort((a, b) => a.binding - b.binding);
    out.set(fn.name, {
      shader: file,
      entry: fn.name,
      bindings,
      uniform,
      workgroupSize: (fn.workgroupSize ?? [1, 1, 1]) as number[],
      // module-level: an entry may use an override only through a helper function, which the
      // per-entry reflection does not list
      overrides: refl.overrides.map((o: { name: string }) => o.name),
    });
  }
  reflectCache.set(cacheKey, out);
  return out;
}

/** Packs named values into a uniform struct's bytes, by the reflected layout. Every member is required. */
export function packUniform(info: EntryInfo, params: Params): ArrayBuffer {
  const u = info.uniform!;
  const buf = new ArrayBuffer(u.size);
  const view = new DataView(buf);
  for (const m of u.members) {
    const v = params[m.name];
    if (v === undefined) {
      throw new KernelError(`shaders/${info.shader}:${info.entry}: uniform member "${m.name}" not given (given: ${Object.keys(params).join(', ') || 'none'})`);
    }
    const vals = typeof v === 'number' ? [v] : v;
    if (vals.length > m.count) throw new KernelError(`shaders/${info.shader}:${info.entry}: uniform "${m.name}" takes ${m.count} values, got ${vals.length}`);
    for (let i = 0; i < vals.length; i++) {
      const off = m.offset + 4 * i;
      const x = vals[i];
      if (m.scalar === 'f32') view.setFloat32(off, x, true);
      else if (m.scalar === 'u32') {
        if (!Number.isInteger(x) || x < 0 || x > 0xffffffff) throw new KernelError(`shaders/${info.shader}:${info.entry}: uniform "${m.name}" must be a u32, got ${x}`);
        view.setUint32(off, x, true);
      } else {
        if (!Number.isInteger(x)) throw new KernelError(`shaders/${info.shader}:${info.entry}: uniform "${m.name}" must be an i32, got ${x}`);
        view.setInt32(off, x, true);
      }
    }
  }
  for (const k of Object.keys(params)) {
    if (!u.members.some((m) => m.name === k)) {
      throw new KernelError(`shaders/${info.shader}:${info.entry}: unknown uniform member "${k}" (struct has: ${u.members.map((m) => m.name).join(', ')})`);
    }
  }
  return buf;
}

export interface CompiledKernel {
  info: EntryInfo;
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
  label: string;
}

export function overridesKey(o: Overrides | undefined): string {
  if (!o) return '';
  return Object.keys(o).sort().map((k) => `${k}=${o[k]}`).join(',');
}

/** Compiles (once per device) and caches pipelines by shader + entry + overrides. */
export class PipelineCache {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, CompiledKernel>();
  /** print the final WGSL of a kernel when it fails to compile (WGNAS_DEBUG=1 or openDevice({ debug: true })) */
  debug = false;

  constructor(private device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  /**
   * Returns the compiled kernel, creating it on first use. Creation is synchronous so ops encode without
   * awaiting; a compile/validation error is reported through `report`, which the device rethrows, naming
   * the kernel, at its next sync point (read, sync, flush check).
   */
  get(shader: string, entry: string, overrides: Overrides | undefined, report: (p: Promise<Error | null>) => void, source?: string): CompiledKernel {
    const key = `${shader}:${entry}:${overridesKey(overrides)}`;
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const code = source ?? shaderSource(shader);
    const info = reflectShader(shader, code).get(entry);
    if (!info) {
      const have = [...reflectShader(shader, code).keys()].join(', ');
      throw new KernelError(`shaders/${shader}: no compute entry point "${entry}" (has: ${have || 'none'})`);
    }
    for (const k of Object.keys(overrides ?? {})) {
      if (!info.overrides.includes(k)) throw new KernelError(`shaders/${shader}:${entry}: unknown override constant "${k}" (declares: ${info.overrides.join(', ') || 'none'})`);
    }
    const label = `${shader}:${entry}${overrides && Object.keys(overrides).length ? `{${overridesKey(overrides)}}` : ''}`;
    const dev = this.device;
    const modKey = `${shader}\u0000${code}`;
    let module = this.modules.get(modKey);
    dev.pushErrorScope('validation');
    if (!module) {
      module = dev.createShaderModule({ code, label: `shaders/${shader}` });
      this.modules.set(modKey, module);
    }
    const layout = dev.createBindGroupLayout({
      label,
      entries: info.bindings.map((b) => ({ binding: b.binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: b.type } })),
    });
    const pipeline = dev.createComputePipeline({
      label,
      layout: dev.createPipelineLayout({ label, bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: entry, constants: overrides },
    });
    const mod = module;
    const debug = this.debug || Boolean(process.env.WGNAS_DEBUG);
    report(dev.popErrorScope().then(async (err) => {
      if (!err) return null;
      this.pipelines.delete(key);
      this.modules.delete(modKey);
      const messages = (await mod.getCompilationInfo()).messages
        .filter((m) => m.type === 'error')
        .map((m) => `  shaders/${shader}:${m.lineNum}:${m.linePos}: ${m.message}`);
      const dump = debug ? `\n--- final WGSL of ${label} ---\n${code}` : '\n(set WGNAS_DEBUG=1 to print the final WGSL)';
      return new KernelError(`kernel ${label} failed to compile:\n${messages.join('\n') || `  ${err.message}`}${dump}`);
    }));
    const compiled = { info, pipeline, layout, label };
    this.pipelines.set(key, compiled);
    return compiled;
  }
}
