/**
 * Downloads of the official dataset files, verified against the checksums their publishers give (MD5:
 * that is what the MNIST mirrors, Zalando's Fashion-MNIST README and the CIFAR page publish). Each file
 * is tried from its mirrors in order, checked, then renamed into place, so a file in the folder is always
 * complete and verified. CIFAR-10 comes as one .tar.gz whose six .bin batches are extracted.
 * Needs network access to the hosts below; nothing here runs at import time.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CIFAR_ARCHIVE_DIR, CIFAR_FILES } from './cifar10.js';
import { defaultDir, type DatasetName } from './dataset.js';
import { DatasetError, readBytes, writeFileAtomic } from './files.js';
import { IDX_FILES } from './idx.js';

export type Algorithm = 'md5' | 'sha256';

export interface Resource {
  file: string;
  urls: readonly string[];
  algorithm: Algorithm;
  digest: string;
}

const MNIST_MIRRORS = ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/', 'http://yann.lecun.com/exdb/mnist/'];
const FASHION_MIRRORS = ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/'];

function idxResources(mirrors: readonly string[], md5: Record<string, string>): Resource[] {
  return Object.entries(md5).map(([file, digest]) => ({ file, urls: mirrors.map((m) => m + file), algorithm: 'md5', digest }));
}

/** The published files and checksums of each dataset. */
export const RESOURCES: Record<DatasetName, readonly Resource[]> = {
  mnist: idxResources(MNIST_MIRRORS, {
    [`${IDX_FILES.train.images}.gz`]: 'f68b3c2dcbeaaa9fbdd348bbdeb94873',
    [`${IDX_FILES.train.labels}.gz`]: 'd53e105ee54ea40749a09fcbcd1e9432',
    [`${IDX_FILES.test.images}.gz`]: '9fb629c4189551a2d022fa330f9573f3',
    [`${IDX_FILES.test.labels}.gz`]: 'ec29112dd5afa0611ce80d1b7f02629c',
  }),
  'fashion-mnist': idxResources(FASHION_MIRRORS, {
    [`${IDX_FILES.train.images}.gz`]: '8d4fb7e6c68d591d4c3dfef9ec88bf0d',
    [`${IDX_FILES.train.labels}.gz`]: '25c81989df183df01b3e8a0aad5dffbe',
    [`${IDX_FILES.test.images}.gz`]: 'bef4ecab320f06d8554ea6380940ec79',
    [`${IDX_FILES.test.labels}.gz`]: 'bb300cfdad3c16e7a12a480ee83cd310',
  }),
  cifar10: [{ file: 'cifar-10-binary.tar.gz', urls: ['https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz'], algorithm: 'md5', digest: 'c32a1d4ab5d03f1284b67883e8d87530' }],
};

export function digestBytes(bytes: Uint8Array, algorithm: Algorithm): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

/** Throws a DatasetError naming the file, the expected and the actual digest when they differ. */
export function verifyFile(path: string, algorithm: Algorithm, digest: string): void {
  if (!existsSync(path)) throw new DatasetError(`${path}: file not found (checksum check)`);
  const got = digestBytes(readFileSync(path), algorithm);
  if (got !== digest.toLowerCase()) throw new DatasetError(`${path}: ${algorithm} is ${got}, want ${digest.toLowerCase()} (corrupt or different file; delete it and download again)`);
}

export type FetchLike = (url: string) => Promise<{ ok: boolean; status: number; statusText?: string; arrayBuffer(): Promise<ArrayBuffer> }>;

export interface DownloadOptions {
  /** fetch implementation (default: the global fetch of Node 20) */
  fetch?: FetchLike;
  /** progress lines (default: none) */
  log?: (line: string) => void;
}

/** Downloads each resource into dir unless a verified copy is there; returns the paths. */
export async function downloadResources(resources: readonly Resource[], dir: string, opts: DownloadOptions = {}): Promise<string[]> {
  const get = opts.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const log = opts.log ?? (() => {});
  const paths: string[] = [];
  for (const r of resources) {
    const path = join(dir, r.file);
    paths.push(path);
    if (existsSync(path)) {
      verifyFile(path, r.algorithm, r.digest);
      log(`${path}: present, ${r.algorithm} ok`);
      continue;
    }
    const failures: string[] = [];
    let done = false;
    for (const url of r.urls) {
      try {
        log(`fetching ${url}`);
        const res = await get(url);
        if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText ?? ''}`.trim());
        const bytes = new Uint8Array(await res.arrayBuffer());
        const got = digestBytes(bytes, r.algorithm);
        if (got !== r.digest.toLowerCase()) throw new Error(`${r.algorithm} ${got}, want ${r.digest}`);
        writeFileAtomic(path, bytes);
        log(`${path}: ${bytes.length} bytes, ${r.algorithm} ok`);
        done = true;
        break;
      } catch (e) {
        const err = e as Error & { cause?: { message?: string } };
        failures.push(`  ${url}: ${err.message}${err.cause?.message ? ` (${err.cause.message})` : ''}`);
      }
    }
    if (!done) throw new DatasetError(`cannot download ${r.file} into ${dir}; every mirror failed:\n${failures.join('\n')}`);
  }
  return paths;
}

/** Regular files of a tar archive (ustar, GNU long names, pax paths), by path. */
export function readTar(tar: Uint8Array, what = 'tar archive'): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  const text = (a: number, b: number) => new TextDecoder().decode(tar.subarray(a, b)).replace(/\0.*$/s, '');
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= tar.length) {
    if (tar.subarray(at, at + 512).every((b) => b === 0)) break;
    const size = parseInt(text(at + 124, at + 136).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new DatasetError(`${what}: bad entry size at byte ${at}`);
    const type = String.fromCharCode(tar[at + 156] || 0x30);
    const prefix = text(at + 345, at + 500);
    const name = longName ?? (prefix ? `${prefix}/${text(at, at + 100)}` : text(at, at + 100));
    longName = undefined;
    const body = at + 512;
    if (body + size > tar.length) throw new DatasetError(`${what}: entry ${name} is truncated`);
    if (type === 'L') longName = text(body, body + size);
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text(body, body + size))?.[1];
    else if (type === '0' || type === '7') out.set(name, tar.subarray(body, body + size));
    at = body + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** Extracts the six CIFAR-10 batches from the official .tar.gz into dir (file names only, no paths). */
export function extractCifarArchive(archive: string, dir: string): string[] {
  const entries = readTar(readBytes(archive), archive);
  const paths: string[] = [];
  for (const f of [...CIFAR_FILES.train, ...CIFAR_FILES.test]) {
    const bytes = entries.get(`${CIFAR_ARCHIVE_DIR}/${f}`) ?? [...entries].find(([k]) => basename(k) === f)?.[1];
    if (!bytes) throw new DatasetError(`${archive}: no ${f} in the archive (has: ${[...entries.keys()].join(', ') || 'nothing'})`);
    const path = join(dir, f);
    writeFileAtomic(path, bytes);
    paths.push(path);
  }
  return paths;
}

/**
 * Downloads a dataset's official files into dir (default: its cache folder) and verifies them;
 * for CIFAR-10 also extracts the batches and deletes the archive. Returns the data files.
 */
export async function downloadDataset(name: DatasetName, dir: string = defaultDir(name), opts: DownloadOptions = {}): Promise<string[]> {
  const resources = RESOURCES[name];
  if (!resources) throw new DatasetError(`unknown dataset "${String(name)}" (known: ${Object.keys(RESOURCES).join(', ')})`);
  if (name !== 'cifar10') return downloadResources(resources, dir, opts);
  const have = [...CIFAR_FILES.train, ...CIFAR_FILES.test].map((f) => join(dir, f));
  if (have.every((p) => existsSync(p))) return have;
  const [archive] = await downloadResources(resources, dir, opts);
  const paths = extractCifarArchive(archive, dir);
  rmSync(archive, { force: true });
  opts.log?.(`extracted ${paths.length} batches into ${dir}`);
  return paths;
}
