/** Layers, NAS building blocks, models and the training loop. */
export { Module, Sequential, kaimingUniform, seededRandom, type ModuleConfig } from './module.js';
export { Conv2d, BatchNorm2d, Linear, ReLU, ReLU6, MaxPool2d, AvgPool2d, GlobalAvgPool } from './layers.js';
export { ReLUConvBN, SepConv, DilConv, FactorizedReduce, MBConv, ResNetBasicBlock, Zero, Identity } from './blocks.js';
export { SmallCnn } from './models.js';
export { trainClassifier, evaluate, EpochMeter, cosineLr, makeOptimizer, type TrainOptions, type TrainResult } from './train.js';
