/** Hardware model: metric tables, predictor metrics, latency LUTs, architecture graphs, GNN kernels. */
export * from './table.js';
export * from './metrics.js';
export * from './lut.js';
export * from './graph.js';
export * from './graph-darts.js';
export * from './graph-mbconv.js';
export * from './space-graph.js';
export { graphAggregate, graphReadout } from './gnn-ops.js';
export { measureNetworkLatency, measureNetworkLatencies, openProfilingDevice } from './measure.js';
export { buildLut, lutNetworkMs, sampleNb201Archs } from './lut-build.js';
export { buildSpaceLut, measureSpaceArchs, sampleSpaceArchs } from './space-lut.js';
export { spaceLatencyTable, spaceLutNetworkMs, type SpaceLatencyTable, type SpaceLutConfig } from './space-lut-plan.js';
