/**
 * The op registry: one record per op. kernels-bench, the latency tables and the coverage test iterate
 * it, so a new op is benchmarked and profiled by registering it here (from its own module).
 *
 * A record does not hold a CPU reference: references live with the tests (test/reference/, float64)
 * and kernels-bench checks every variant against them before timing.
 */
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';

export type OpParams = Record<string, number>;

export interface OpInstance {
  /** the op's inputs (uploaded once) */
  inputs: Record<string, Tensor>;
  /** one runner per pass; each encodes exactly that pass's dispatches and returns its output(s) */
  run: Record<string, () => Tensor | Tensor[]>;
}

export interface OpRecord {
  /** op name, snake_case as in the papers (conv2d, max_pool2d, sep_conv_3x3 ...) */
  name: string;
  /** shader file in shaders/ */
  shader: string;
  /** passes, e.g. ['forward', 'backward_input', 'backward_weight'] */
  passes: readonly string[];
  /** human-readable parameter string for tables, e.g. "N32 C16→16 28×28 k3 s1 p1" */
  describe(p: OpParams): string;
  /** inputs + pass runners for one parameter set (random inputs from `seed`) */
  setup(dev: Device, p: OpParams, seed: number): OpInstance;
  /** floating-point operations of one pass (a multiply-add counts 2) */
  flops(p: OpParams, pass: string): number;
  /** bytes a pass must move at least (inputs read + outputs written, fp32) */
  bytes(p: OpParams, pass: string): number;
  /** shape sweep for kernels-bench --suite sweep */
  sweep: readonly OpParams[];
}

const REGISTRY = new Map<string, OpRecord>();

export function register(r: OpRecord): OpRecord {
  if (REGISTRY.has(r.name)) throw new Error(`op ${r.name} registered twice`);
  REGISTRY.set(r.name, r);
  return r;
}

export function registry(): OpRecord[] {
  return [...REGISTRY.values()];
}

export function getOp(name: string): OpRecord {
  const r = REGISTRY.get(name);
  if (!r) throw new Error(`no op "${name}" in the registry (have: ${[...REGISTRY.keys()].join(', ')})`);
  return r;
}

export { seededValues } from '../tensor/host-random.js';
