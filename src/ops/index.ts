/** The op library: one module per shader family. Each op checks shapes, dispatches and records its backward. */
export { relu, relu6, add, sub, lincomb, scale, mul, sum, mean } from './elementwise.js';
export { register, registry, getOp, seededValues, type OpRecord, type OpInstance, type OpParams } from './registry.js';
