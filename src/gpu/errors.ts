/** Errors that name what failed: the kernel (shader file + entry point), the op, the shapes. */

export class WgnasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No WebGPU adapter at all, or none of the requested kind. */
export class AdapterError extends WgnasError {}

/** A WGSL compile error, a pipeline/bind-group validation error, or a dispatch that broke validation. */
export class KernelError extends WgnasError {}

/** An op was called with shapes or parameters it does not accept. */
export class ShapeError extends WgnasError {}

/** The GPU device was lost (driver reset, out of memory, destroyed). */
export class DeviceLostError extends WgnasError {}

export const NO_ADAPTER_HELP = [
  'WebGPU needs a GPU driver with Vulkan (Linux), Metal (macOS) or D3D12 (Windows).',
  'On Linux without a GPU, install Mesa\'s software Vulkan driver "lavapipe" (Mesa >= 23; Dawn rejects older):',
  '  sudo bash bin/install-lavapipe.sh      # Debian bookworm: mesa-vulkan-drivers from bookworm-backports',
  '  # other distributions: install mesa-vulkan-drivers (>= 23) and libvulkan1 from your package manager',
  'Check with: node bin/wgnas.js devices',
].join('\n');

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
