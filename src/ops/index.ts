/**
 * The op library: one module per shader family. Each op checks shapes, dispatches its WGSL kernel and
 * records its backward; the `*Forward`/`*Backward`/`*Raw` functions run one pass without autograd
 * (kernels-bench times them). Importing this module registers every op in the registry.
 */
export { relu, relu6, add, sub, lincomb, scale, mul, sum, mean } from './elementwise.js';
export { conv2d, conv2dForward, conv2dBackwardInput, conv2dBackwardWeight, conv2dBackwardBias, conv2dGeometry, type Conv2dOptions } from './conv2d.js';
export { matmul, matmulRaw, linear, gemm } from './matmul.js';
export { maxPool2d, avgPool2d, globalAvgPool, maxPoolForward, maxPoolBackward, avgPoolForward, avgPoolBackward } from './pool2d.js';
export { batchNorm2d, batchNormForwardTrain, batchNormForwardEval, batchNormBackward } from './batchnorm.js';
export { concat, sliceChannels, shiftCrop, addN, zerosLike, zeroOp, identity } from './channels.js';
export { softmax, logSoftmax } from './softmax.js';
export { crossEntropy, accuracy } from './loss.js';
export { mixedSum } from './mixed.js';
export { SGD, Adam, sgdStep, adamStep, clipGradNorm } from './optim.js';
export { uniform, normal, gumbel, bernoulliMask, dropout, RngStream } from './rng.js';
export { gather, oneHotST } from './select.js';
export { reshape, flatten } from './shape.js';
export { legalVariants, defaultVariant, tuneCall, tuneCalls, tuneInputs, type TuneResult, type TuneOptions, type TuneCandidate } from './autotune.js';
export { tuneKey, recordTuneCalls, type TuneCall } from './tuning.js';
export { register, registry, getOp, seededValues, type OpRecord, type OpInstance, type OpParams } from './registry.js';
