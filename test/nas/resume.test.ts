/**
 * A search killed with SIGKILL after a checkpoint resumes with --resume and ends exactly where an
 * uninterrupted run ends (same α history, same cell): checkpoints hold every piece of state (weights, BN
 * buffers, α, both optimizers, sampler, step counters) and the GPU computation is deterministic.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runNode } from '../helpers.js';

const ARGS = ['search.js', '--epochs', '4', '--train-subset', '192', '--batch-size', '32', '--channels', '4', '--retrain-epochs', '0', '--seed', '3'];
const env = { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp' };

function result(dir: string): { arch_str: string; alpha_history: number[][][] } {
  return JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
}

describe('search resume', () => {
  it('a killed search resumes and matches the uninterrupted run', async () => {
    const base = mkdtempSync(join(tmpdir(), 'wgnas-resume-'));
    const full = join(base, 'full');
    const cut = join(base, 'cut');
    const r = await runNode([...ARGS, '--out', full]);
    expect(r.status, r.stderr).toBe(0);

    const child = spawn('node', [...ARGS, '--out', cut], { env, stdio: 'ignore' });
    const ckpt = join(cut, 'checkpoint', 'checkpoint.json');
    await new Promise<void>((resolve, reject) => {
      const t = setInterval(() => {
        if (existsSync(ckpt)) {
          clearInterval(t);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(t);
        reject(new Error('search finished before it could be killed'));
      });
    });
    await new Promise((res) => child.on('exit', res));
    expect(existsSync(join(cut, 'result.json'))).toBe(false);
    const epochsDone = JSON.parse(readFileSync(ckpt, 'utf8')).meta.epoch + 1;
    expect(epochsDone).toBeLessThan(4);

    const again = await runNode([...ARGS, '--out', cut, '--resume']);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toContain('resumed from');
    const a = result(full);
    const b = result(cut);
    expect(b.arch_str).toBe(a.arch_str);
    expect(b.alpha_history.length).toBe(4);
    for (let e = 0; e < 4; e++) {
      const x = a.alpha_history[e].flat();
      const y = b.alpha_history[e].flat();
      for (let i = 0; i < x.length; i++) expect(Math.abs(x[i] - y[i])).toBeLessThan(1e-6);
    }
  }, 300_000);
});
