/** wgnas: hardware-aware differentiable NAS on raw WebGPU. Library entry point. */
export { openDevice, Device, type TensorOptions } from './tensor/device.js';
export { Tensor, numel, type Node } from './tensor/tensor.js';
export { backward, zeroGrad, needsGrad, record } from './tensor/autograd.js';
export { GpuDevice, grid, type Dispatch, type OpenOptions, type BindValue } from './gpu/gpu-device.js';
export { listAdapters, selectAdapter, type AdapterDescription, type AdapterKind, type AdapterSpec } from './gpu/adapters.js';
export { Profiler, summarize, quantile, type KernelRecord, type KernelSummary, type TimeSource } from './gpu/profiler.js';
export { TuningCache, loadTuningCache, saveTuningCache, tuningCachePath, adapterIdentity, type TuningEntry } from './gpu/tuning-cache.js';
export { BufferAllocator, sizeClass, type MemoryStats } from './gpu/allocator.js';
export { reflectShader, shaderSource, shaderDir, type EntryInfo } from './gpu/kernel.js';
export { WgnasError, AdapterError, KernelError, ShapeError, DeviceLostError } from './gpu/errors.js';
export * as ops from './ops/index.js';
export * as nn from './nn/index.js';
export * as data from './data/index.js';
export * as nas from './nas/index.js';
export * as hardware from './hardware/index.js';
