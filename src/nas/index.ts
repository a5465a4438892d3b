/** Search spaces, supernets, samplers, objectives, the search loop and checkpoints. */
export * from './spaces/common.js';
export * from './spaces/nb201.js';
export * from './spaces/darts.js';
export * from './spaces/darts-format.js';
export * from './spaces/mbconv.js';
export * from './spaces/darts-network.js';
export { Nb201Table } from './nb201-table.js';
export { Nb201Network, Nb201Cell, nb201Supernet, nb201Child, NB201_OPS, type Nb201ModelConfig } from './nb201-net.js';
export { makeSampler, SAMPLERS, MixtureSampler, GumbelSampler, BinarySampler, OrderedSampler, type Sampler, type SamplerName, type EdgePlan } from './samplers.js';
export { expectedCost, targetPenalty, identityPenalty, costTable, combine } from './objectives.js';
export { SupernetSearch, splitImageSet, type SearchOptions, type SearchResult } from './search.js';
export { saveCheckpoint, loadCheckpoint, hasCheckpoint } from './checkpoint.js';
export { MbconvNetwork, mbconvSupernet, mbconvChild, mbconvChain, type MbconvModelConfig } from './mbconv-net.js';
export { SPACES, spaceBinding, selectedCost, type SpaceBinding, type SpaceName, type DerivedArch, type NetKnobs } from './space-binding.js';
export { deriveUnderBudget, type BudgetProblem, type BudgetChoice } from './budget.js';
export { DartsNetwork, DartsCell, dartsSupernet, dartsChild, dartsNetworkFromConfig, dartsCostConfig, DARTS_OPS, type DartsModelConfig } from './darts-net.js';
