import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasCheckpoint, loadCheckpoint, saveCheckpoint } from '../../src/nas/checkpoint.js';

describe('checkpoint', () => {
  it('round-trips metadata and tensors; keeps one generation; ignores a torn temp file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wgnas-ckpt-'));
    expect(hasCheckpoint(dir)).toBe(false);
    saveCheckpoint(dir, { epoch: 1 }, { a: { shape: [2, 2], data: Float32Array.from([1, 2, 3, 4]) }, b: { shape: [1], data: Float32Array.from([5]) } });
    saveCheckpoint(dir, { epoch: 2 }, { a: { shape: [2, 2], data: Float32Array.from([4, 3, 2, 1]) }, b: { shape: [1], data: Float32Array.from([-5]) } });
    // a kill during the next save leaves a temp file behind: it must not be read
    writeFileSync(join(dir, 'checkpoint.json.tmp-999'), '{ torn');
    const c = loadCheckpoint<{ epoch: number }>(dir)!;
    expect(c.meta.epoch).toBe(2);
    expect(Array.from(c.tensors.a.data)).toEqual([4, 3, 2, 1]);
    expect(c.tensors.a.shape).toEqual([2, 2]);
    expect(Array.from(c.tensors.b.data)).toEqual([-5]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin'))).toEqual(['ckpt-2.bin']);
  });
});
