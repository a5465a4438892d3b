/**
 * DARTS second-order ("unrolled") architecture gradient (Liu et al. 2019, architect.py).
 *
 * ∇α L_val(w*(α), α) is approximated through one virtual SGD step on the weights,
 *   w' = w − ξ·(μ·m + ∇w L_train(w, α) + wd·w)        (m: the weight optimizer's momentum buffers)
 * and the chain rule through it:
 *   g = ∇α L_val(w', α) − ξ · ∇²_{α,w} L_train(w, α) · v,     v = ∇w' L_val(w', α),
 * with the Hessian-vector product by central finite differences
 *   ∇²_{α,w} L_train · v ≈ (∇α L_train(w⁺, α) − ∇α L_train(w⁻, α)) / (2·ε),   w± = w ± ε·v,  ε = epsScale / ‖v‖.
 * Divide by (2·ε): public ports shipped `/ 2.*eps`, which multiplies by ε/2 instead.
 *
 * Every vector operation runs on the GPU: the virtual step and the w± perturbations are in-place SGD
 * kernels, ‖v‖ is clipGradNorm's global-norm reduction (with an infinite cap, so it scales by exactly 1),
 * and the combination is lincomb. The only readback is ‖v‖ (DARTS reads it too, via .norm()). The
 * weights are restored bit for bit from a GPU copy (never by adding and subtracting).
 */
import { WgnasError } from '../gpu/errors.js';
import { lincomb } from '../ops/elementwise.js';
import { clipGradNorm, sgdStep } from '../ops/optim.js';
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';

export interface UnrolledOptions {
  /** ξ: learning rate of the virtual step (DARTS uses the weight optimizer's current lr) */
  xi: number;
  /** weight decay included in the virtual step, as DARTS (default 0) */
  weightDecay?: number;
  /**
   * Momentum of the virtual step, as DARTS: w' = w − ξ·(momentum·buf + grad + wd·w). `buffers` are the
   * weight optimizer's momentum buffers, one per weight (null: none yet); they are read, never written.
   */
  momentum?: { factor: number; buffers: readonly (Tensor | null)[] };
  /** ε = epsScale / ‖v‖ for the finite-difference Hessian-vector product (default 0.01, as DARTS) */
  epsScale?: number;
}

/** What one call measured, for logs and tests. */
export interface UnrolledInfo {
  /** ‖∇w' L_val(w', α)‖ (global L2 norm over every weight) */
  vNorm: number;
  /** ε actually used (0 when ‖v‖ = 0: the Hessian term is then zero and not evaluated) */
  eps: number;
}

type LossFn = () => Tensor | Promise<Tensor>;

/**
 * Back-propagates lossFn from the current parameter values into the `.grad` of whichever of `weights`
 * and `alpha` have requiresGrad set (their grads must be null: they are adopted, not accumulated).
 * A loss that reaches none of them leaves every grad null (a zero gradient).
 */
async function backprop(dev: Device, lossFn: LossFn): Promise<void> {
  await dev.tidy(async () => {
    const loss = await lossFn();
    if (loss.size !== 1) throw new WgnasError(`unrolledArchGrad: a loss closure returned ${loss.describe()}, not a scalar`);
    if (loss.node) await loss.backward();
  });
}

/** Takes t.grad out of t (the caller now owns and must dispose it); zeros of t's shape when t had none. */
function takeGrad(dev: Device, t: Tensor): Tensor {
  const g = t.grad ?? dev.zeros(t.shape, { persistent: true });
  t.grad = null;
  return g;
}

/**
 * Sets alpha.grad (overwriting whatever it held) to the second-order DARTS architecture gradient at the
 * current weights and α, and restores the weights exactly. The closures build a scalar loss tensor from
 * the current parameter values; they must be deterministic between calls (same batch, same sampled
 * architecture, same dropout/Gumbel noise), since L_train is evaluated at w, w⁺ and w⁻.
 *
 * Side effects: none on the weights (values restored from a copy; their .grad and requiresGrad are as
 * before the call) nor on α's requiresGrad. What the closures themselves mutate (batch-norm running
 * statistics in train mode, sampler state) they mutate once per evaluation: four times per call.
 * Must run with grad mode on (not inside dev.noGrad).
 */
export async function unrolledArchGrad(dev: Device, weights: readonly Tensor[], alpha: Tensor, trainLoss: LossFn, valLoss: LossFn, opts: UnrolledOptions): Promise<UnrolledInfo> {
  const { xi, weightDecay = 0, epsScale = 0.01, momentum } = opts;
  if (!Number.isFinite(xi) || xi < 0) throw new WgnasError(`unrolledArchGrad: xi must be a finite number >= 0, got ${xi}`);
  if (!(epsScale > 0)) throw new WgnasError(`unrolledArchGrad: epsScale must be positive, got ${epsScale}`);
  if (weights.length === 0) throw new WgnasError('unrolledArchGrad: no weights given');
  if (weights.includes(alpha)) throw new WgnasError('unrolledArchGrad: alpha is among the weights');
  if (momentum && momentum.buffers.length !== weights.length) {
    throw new WgnasError(`unrolledArchGrad: ${momentum.buffers.length} momentum buffers for ${weights.length} weights`);
  }
  if (!dev.gradEnabled) throw new WgnasError('unrolledArchGrad: called inside noGrad (it needs backward)');

  // caller state, restored in `finally`
  const wasTrainable = weights.map((w) => w.requiresGrad);
  const alphaWasTrainable = alpha.requiresGrad;
  const callerGrads = weights.map((w) => w.grad);
  for (const w of weights) w.grad = null;
  alpha.grad?.dispose();
  alpha.grad = null;

  const temps: Tensor[] = []; // persistent temporaries, disposed in `finally`
  const keep = (t: Tensor): Tensor => (temps.push(t), t);
  const backup = weights.map((w) => keep(dev.clone(w, { persistent: true, label: `unrolled-backup:${w.label ?? w.id}` })));
  const restoreWeights = (): void => weights.forEach((w, i) => dev.copyInto(w, backup[i]));
  const setTrainable = (w: boolean, a: boolean): void => {
    for (const p of weights) p.requiresGrad = w;
    alpha.requiresGrad = a;
  };
  const alphaGradAt = async (perturb: (w: Tensor, i: number) => void): Promise<Tensor> => {
    restoreWeights();
    weights.forEach(perturb);
    setTrainable(false, true);
    await backprop(dev, trainLoss);
    return keep(takeGrad(dev, alpha));
  };

  try {
    // 1. the virtual step: w' = w − ξ·(μ·m + ∇w L_train(w, α) + wd·w), in place (momentum on a scratch copy)
    setTrainable(true, false);
    await backprop(dev, trainLoss);
    weights.forEach((w, i) => {
      const g = takeGrad(dev, w);
      const buf = momentum?.buffers[i];
      const scratch = momentum && momentum.factor !== 0 && buf ? dev.clone(buf, { persistent: true }) : null;
      sgdStep(w, g, scratch, { lr: xi, momentum: scratch ? momentum!.factor : 0, weightDecay });
      g.dispose(); // freed at once (peak memory: the backup and v are the only weight-sized extras kept)
      scratch?.dispose();
    });

    // 2. at w': dα = ∇α L_val(w', α) and v = ∇w' L_val(w', α), from one backward
    setTrainable(true, true);
    await backprop(dev, valLoss);
    const dalpha = keep(takeGrad(dev, alpha));
    const v = weights.map((w) => keep(takeGrad(dev, w)));

    // 3. ε = epsScale / ‖v‖ (one readback; an infinite cap makes clipGradNorm scale v by exactly 1)
    const vNorm = await dev.tidy(async () => clipGradNorm(v, 3.4e38).item());
    if (!Number.isFinite(vNorm)) throw new WgnasError(`unrolledArchGrad: ‖∇w' L_val‖ is ${vNorm}`);
    if (vNorm === 0 || xi === 0) {
      // the Hessian term is ξ·H·0 or 0·H·v: exactly zero
      alpha.grad = dalpha;
      temps.splice(temps.indexOf(dalpha), 1);
      return { vNorm, eps: 0 };
    }
    const eps = Math.fround(epsScale / vNorm); // the f32 step the kernels apply, used for the quotient too

    // 4. ∇α L_train at w⁺ = w + ε·v and w⁻ = w − ε·v (sgdStep: w −= lr·grad, so lr = ∓ε), each from w exactly
    const gPlus = await alphaGradAt((w, i) => sgdStep(w, v[i], null, { lr: -eps }));
    const gMinus = await alphaGradAt((w, i) => sgdStep(w, v[i], null, { lr: eps }));

    // 5. g = dα − ξ·(g⁺ − g⁻) / (2·ε)   (precedence: the divisor is 2·ε, not 2 followed by ·ε)
    const coef = -xi / (2 * eps);
    const grad = dev.noGrad(() => dev.tidy(() => lincomb(1, dalpha, coef, lincomb(1, gPlus, -1, gMinus))));
    grad.persistent = true;
    dev.disown(grad);
    alpha.grad = grad;
    return { vNorm, eps };
  } catch (e) {
    // no half-computed gradient survives an error
    alpha.grad?.dispose();
    alpha.grad = null;
    throw e;
  } finally {
    restoreWeights();
    for (const t of temps) t.dispose();
    weights.forEach((w, i) => {
      w.grad?.dispose();
      w.grad = callerGrads[i];
      w.requiresGrad = wasTrainable[i];
    });
    alpha.requiresGrad = alphaWasTrainable;
  }
}
