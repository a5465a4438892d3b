/**
 * Atomic checkpoints: tensors go to `ckpt-<gen>.bin` (float32, concatenated), metadata and the tensor
 * index to `checkpoint.json`. Each file is written to a temporary name, fsynced and renamed; the JSON
 * rename is the commit point, so a kill at any moment leaves either the previous or the new checkpoint,
 * never a torn one. Older .bin generations are removed after the commit.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface CheckpointIndexEntry {
  name: string;
  shape: number[];
  offset: number; // in floats
  length: number;
}

export interface CheckpointFile<M> {
  version: 1;
  generation: number;
  bin: string;
  tensors: CheckpointIndexEntry[];
  meta: M;
}

export type TensorState = Record<string, { shape: readonly number[]; data: Float32Array }>;

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function saveCheckpoint<M>(dir: string, meta: M, tensors: TensorState): void {
  mkdirSync(dir, { recursive: true });
  const prev = readCheckpointIndex<M>(dir);
  const generation = (prev?.generation ?? 0) + 1;
  const bin = `ckpt-${generation}.bin`;
  const index: CheckpointIndexEntry[] = [];
  let total = 0;
  for (const [name, t] of Object.entries(tensors)) {
    index.push({ name, shape: [...t.shape], offset: total, length: t.data.length });
    total += t.data.length;
  }
  const all = new Float32Array(total);
  for (const e of index) all.set(tensors[e.name].data, e.offset);
  writeAtomic(join(dir, bin), new Uint8Array(all.buffer));
  const file: CheckpointFile<M> = { version: 1, generation, bin, tensors: index, meta };
  writeAtomic(join(dir, 'checkpoint.json'), JSON.stringify(file));
  for (const f of readdirSync(dir)) if (/^ckpt-\d+\.bin$/.test(f) && f !== bin) rmSync(join(dir, f), { force: true });
}

function readCheckpointIndex<M>(dir: string): CheckpointFile<M> | undefined {
  const p = join(dir, 'checkpoint.json');
  if (!existsSync(p)) return undefined;
  return JSON.parse(readFileSync(p, 'utf8')) as CheckpointFile<M>;
}

export function loadCheckpoint<M>(dir: string): { meta: M; tensors: TensorState } | undefined {
  const file = readCheckpointIndex<M>(dir);
  if (!file) return undefined;
  const raw = readFileSync(join(dir, file.bin));
  const all = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const tensors: TensorState = {};
  for (const e of file.tensors) tensors[e.name] = { shape: e.shape, data: all.slice(e.offset, e.offset + e.length) };
  return { meta: file.meta, tensors };
}

export function hasCheckpoint(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint.json'));
}
