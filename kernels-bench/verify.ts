/**
 * Reference check before timing: each registered op maps to a float64 reference from test/reference/
 * (the same functions the unit tests use). An op without a reference is reported FAILED, never timed.
 */
import type { Device } from '../src/tensor/device.js';
import type { Tensor } from '../src/tensor/tensor.js';
import type { OpInstance, OpParams, OpRecord } from '../src/ops/registry.js';
import { REFERENCES } from '../test/reference/index.js';

/** Largest |got − want| relative to the largest |want| (a scale-aware error for big reductions). */
export function relError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length < want.length) return Infinity;
  let maxErr = 0;
  let scale = 1e-6;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]);
    if (Number.isNaN(e)) return NaN; // an unwritten (NaN-poisoned) or NaN output fails, whatever follows it
    if (e > maxErr) maxErr = e;
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return maxErr / scale;
}

export async function verify(dev: Device, rec: OpRecord, p: OpParams, pass: string, inst: OpInstance, tol = 1e-4): Promise<string> {
  const ref = REFERENCES[rec.name];
  if (!ref) return 'FAILED: no float64 reference registered in test/reference/index.ts';
  const inputs: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(inst.inputs)) inputs[k] = await t.read();
  const outs = dev.tidy(() => {
    const o = inst.run[pass]();
    return Array.isArray(o) ? o : [o];
  }) as Tensor[];
  const got = await Promise.all(outs.map((t) => t.read()));
  outs.forEach((t) => t.dispose());
  const want = ref(inputs, p, pass);
  if (want.length !== got.length) return `FAILED: ${got.length} outputs, reference has ${want.length}`;
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, relError(got[i], want[i]));
  return worst <= tol ? `ok (rel err ${worst.toExponential(1)})` : `FAILED: rel err ${worst.toExponential(2)} > ${tol}`;
}
