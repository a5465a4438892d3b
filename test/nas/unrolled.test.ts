/**
 * DARTS second-order architecture gradient on a quadratic, where everything is known in float64.
 *
 * Weights: two tensors w1 [1,4], w2 [1,3], read as one vector z = w1·P1 + w2·P2 ∈ R⁷ (P1, P2 0/1
 * selection matrices, so the "concatenation" is exact on the GPU). Architecture α [1,5].
 *   L_train = ½ zᵀA z + zᵀB α + cᵀz + ¼ αᵀα        (A symmetric)
 *   L_val   = ½ zᵀC z + zᵀD α + dᵀz + fᵀα          (C symmetric)
 * Then ∇z L_train = A z + B α + c, ∇α L_train = Bᵀz + ½α, ∇z L_val = C z + D α + d, ∇α L_val = Dᵀz + f.
 *
 * Virtual step: z' = z − ξ(μm + A z + B α + c + wd·z); v = C z' + D α + d.
 * DARTS: g = (Dᵀz' + f) − ξ·H v with H v = ∇²_{α,z} L_train · v = Bᵀv. The central difference
 * (∇α L_train(z + εv) − ∇α L_train(z − εv)) / (2ε) = (Bᵀ(z+εv) − Bᵀ(z−εv)) / (2ε) = Bᵀv for every ε:
 * exact, since ∇α L_train is affine in z.
 * Exact total derivative of α ↦ L_val(z'(α), α): ∂z'/∂α = −ξB (momentum and decay do not depend on α),
 * so d/dα = ∇α L_val(z') + (∂z'/∂α)ᵀ ∇z L_val(z') = Dᵀz' + f − ξBᵀv: the same vector. The test also
 * checks this numerically, by float64 central differences of the unrolled validation loss.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { add, matmul, mul, scale, sum } from '../../src/ops/elementwise.js';
import { matmul as mm } from '../../src/ops/matmul.js';
import { zeroGrad } from '../../src/tensor/autograd.js';
import type { Device } from '../../src/tensor/device.js';
import type { Tensor } from '../../src/tensor/tensor.js';
import { unrolledArchGrad, type UnrolledOptions } from '../../src/nas/unrolled.js';
import { expectClose, randArray, testDevice } from '../helpers.js';

void matmul;
