/**
 * Module: a layer with named parameters and buffers (persistent GPU tensors), train/eval mode, a
 * config that round-trips (STYLE 8), and a state dict for checkpoints.
 */
import type { Device } from '../tensor/device.js';
import type { Tensor } from '../tensor/tensor.js';

export { seededRandom } from '../tensor/host-random.js';

export interface ModuleConfig {
  type: string;
  [k: string]: unknown;
}

export abstract class Module {
  training = true;
  protected params = new Map<string, Tensor>();
  protected buffers = new Map<string, Tensor>();
  protected children = new Map<string, Module>();

  constructor(readonly dev: Device) {}

  abstract forward(x: Tensor): Tensor;
  abstract config(): ModuleConfig;

  protected addParam(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    const t = this.dev.parameter(data, shape, name);
    this.params.set(name, t);
    return t;
  }

  protected addBuffer(name: string, data: Float32Array, shape: readonly number[]): Tensor {
    const t = this.dev.tensor(data, shape, { persistent: true, label: name });
    this.buffers.set(name, t);
    return t;
  }

  protected addChild<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** All trainable parameters, depth first, with dotted names. */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.params) out.push([prefix + k, t]);
    for (const [k, c] of this.children) out.push(...c.namedParameters(`${prefix}${k}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, t] of this.buffers) out.push([prefix + k, t]);
    for (const [k, c] of this.children) out.push(...c.namedBuffers(`${prefix}${k}.`));
    return out;
  }

  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((c) => c.modules())];
  }

  train(on = true): this {
    for (const m of this.modules()) m.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  numParameters(): number {
    return this.parameters().reduce((a, t) => a + t.size, 0);
  }

  /** Parameters and buffers read back (a sync point), for checkpoints. */
  async stateDict(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) out[k] = { shape: [...t.shape], data: await t.read() };
    return out;
  }

  loadStateDict(state: Record<string, { shape: readonly number[]; data: Float32Array }>): void {
    for (const [k, t] of [...this.namedParameters(), ...this.namedBuffers()]) {
      const s = state[k];
      if (!s) throw new Error(`loadStateDict: missing "${k}"`);
      if (s.data.length !== t.size) throw new Error(`loadStateDict: "${k}" has ${s.data.length} values, the model expects ${t.size} (${t.describe()})`);
      this.dev.write(t.buffer, s.data);
    }
  }

  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** Applies modules in order. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(dev: Device, layers: Module[]) {
    super(dev);
    this.layers = layers;
    layers.forEach((l, i) => this.addChild(String(i), l));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (const l of this.layers) h = l.forward(h);
    return h;
  }
  config(): ModuleConfig {
    return { type: 'Sequential', layers: this.layers.map((l) => l.config()) };
  }
}

/** Kaiming-uniform initial weights (PyTorch's default for conv/linear): U(-b, b), b = 1/sqrt(fanIn). */
export function kaimingUniform(n: number, fanIn: number, rand: () => number): Float32Array {
  const b = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rand() - 1) * b;
  return out;
}
