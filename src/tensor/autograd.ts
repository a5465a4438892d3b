/**
 * Reverse-mode autograd over nodes attached to op outputs (PyTorch-style: a node is recorded when an
 * input requires grad and grad mode is on). backward(loss):
 *  1. orders the graph reachable from `loss` topologically;
 *  2. frees at once every intermediate output that no backward step reads (unless retained);
 *  3. runs each node's backward in reverse order; gradients of intermediates are summed in fresh
 *     buffers, gradients of leaves are ACCUMULATED into `leaf.grad` (+=, as PyTorch: zero them between
 *     steps with zeroGrad / the optimizer);
 *  4. after a node's backward, every tensor it saved whose last reader that was is freed, so saved
 *     activations live only as long as backward needs them (peak memory is a headline figure).
 */
import { WgnasError } from '../gpu/errors.js';
import type { Device } from './device.js';
import type { Node, Tensor } from './tensor.js';

/** True if an op on these inputs must record a node. */
export function needsGrad(dev: Device, ...inputs: (Tensor | null | undefined)[]): boolean {
  if (!dev.gradEnabled) return false;
  return inputs.some((t) => t && (t.requiresGrad || t.node !== null));
}

/**
 * Attaches a node to `out` if any input needs grad; otherwise disposes the tensors that were made only
 * for backward (`internal`). Returns out.
 */
export function record(out: Tensor, op: string, inputs: (Tensor | null)[], saved: Tensor[], backward: Node['backward'], internal: Tensor[] = []): Tensor {
  const dev = out.dev;
  if (needsGrad(dev, ...inputs)) {
    out.node = { op, inputs, saved, backward };
    for (const t of internal) t.internal = true;
  } else {
    for (const t of internal) t.dispose();
  }
  return out;
}

function topo(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // iterative DFS (deep supernets would overflow a recursive one)
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const i of t.node?.inputs ?? []) if (i && i.node && !seen.has(i)) stack.push([i, false]);
  }
  return order; // inputs before outputs
}

export async function backward(root: Tensor, dout?: Tensor): Promise<void> {
  const dev = root.dev;
  if (!root.node) throw new WgnasError(`backward: ${root.describe()} was not produced by an op that records gradients (no input requires grad, or it ran under noGrad)`);
  const order = topo(root);
  const nodes = order.map((t) => t.node!);
  const inGraph = new Set(order);
  // how many pending backward steps read each tensor
  const readers = new Map<Tensor, number>();
  for (const n of nodes) for (const s of n.saved) readers.set(s, (readers.get(s) ?? 0) + 1);
  const freeable = (t: Tensor): boolean => t !== root && !t.retained && !t.persistent && !t.requiresGrad && (inGraph.has(t) || t.internal);
  for (const t of order) if (!readers.has(t) && freeable(t)) t.dispose();

  const grads = new Map<Tensor, Tensor>();
  grads.set(root, dout ?? dev.full(root.shape, 1));

  for (let k = order.length - 1; k >= 0; k--) {
    const t = order[k];
    const node = nodes[k];
    const g = grads.get(t);
    grads.delete(t);
    if (g) {
      const gins = node.backward(g);
      if (gins.length !== node.inputs.length) throw new WgnasError(`backward of ${node.op} returned ${gins.length} gradients for ${node.inputs.length} inputs`);
      // ownership: a returned tensor is either adopted (becomes a stored gradient) or freed below;
      // one tensor returned for several inputs (add passes dout to both) is adopted once, copied after
      const adopted = new Set<Tensor>();
      const returned = new Set<Tensor>([g]);
      for (let i = 0; i < gins.length; i++) {
        const inp = node.inputs[i];
        let gi = gins[i];
        if (!gi) continue;
        returned.add(gi);
        if (!inp || !(inp.requiresGrad || inGraph.has(inp))) continue;
        const target = inGraph.has(inp) ? grads.get(inp) : inp.grad;
        if (target) {
          // an op whose input appears twice (add(x, x)) may hand back the very tensor it accumulates into
          const src = target === gi ? dev.clone(gi) : gi;
          dev.accumulate(target, src);
          if (src !== gi) src.dispose();
          continue;
        }
        if (adopted.has(gi)) gi = dev.clone(gi);
        adopted.add(gi);
        if (inGraph.has(inp)) grads.set(inp, gi);
        else {
          gi.persistent = true;
          dev.disown(gi);
          inp.grad = gi;
        }
      }
      for (const r of returned) if (!adopted.has(r)) r.dispose();
    }
    for (const s of node.saved) {
      const n = readers.get(s)! - 1;
      readers.set(s, n);
      if (n === 0 && freeable(s)) s.dispose();
    }
    node.saved = [];
    if (t !== root) {
      t.node = null;
      if (freeable(t)) t.dispose();
    }
  }
  root.node = null;
  for (const g of grads.values()) g.dispose();
}

/**
 * Clears every parameter's gradient to "none" (PyTorch's set_to_none default): the next backward
 * adopts fresh gradient buffers, and a parameter that backward does not reach keeps grad === null, so
 * optimizers skip it — no momentum or weight decay for ops a single-path sampler did not run.
 */
export function zeroGrad(params: readonly Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
