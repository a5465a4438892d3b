import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATASET_NAMES } from '../../src/data/dataset.js';
import { downloadResources, RESOURCES, verifyFile, type FetchLike, type Resource } from '../../src/data/download.js';

// No network to the dataset hosts here: the real downloads are not exercised. These tests cover the
// checksum check on local files and the mirror / verify / atomic-rename logic with a fake fetch.
const tmp = mkdtempSync(join(tmpdir(), 'wgnas-dl-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// the widely published MD5 and SHA-256 of this pangram (independent of node:crypto)
const content = Buffer.from('The quick brown fox jumps over the lazy dog');
const md5 = '9e107d9d372bb6826bd81d3542a419d6';
const sha256 = 'd7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592';

function fakeFetch(table: Record<string, Buffer | number>, calls: string[]): FetchLike {
  return async (url) => {
    calls.push(url);
    const v = table[url];
    if (v === undefined) throw new Error('getaddrinfo ENOTFOUND');
    if (typeof v === 'number') return { ok: false, status: v, statusText: 'Not Found', arrayBuffer: async () => new ArrayBuffer(0) };
    return { ok: true, status: 200, arrayBuffer: async () => v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength) as ArrayBuffer };
  };
}

describe('downloads', () => {
  it('verifyFile accepts the right md5 / sha256 of a local file and names file, expected and actual otherwise', () => {
    const f = join(tmp, 'f.txt');
    writeFileSync(f, content);
    verifyFile(f, 'md5', md5);
    verifyFile(f, 'md5', md5.toUpperCase());
    verifyFile(f, 'sha256', sha256);
    const wrong = '0'.repeat(32);
    expect(() => verifyFile(f, 'md5', wrong)).toThrow(new RegExp(`f\\.txt: md5 is ${md5}, want ${wrong}`));
    expect(() => verifyFile(join(tmp, 'nope'), 'md5', md5)).toThrow(/nope: file not found/);
  });

  it('tries mirrors in order, verifies, writes atomically, and skips verified files next time', async () => {
    const dir = join(tmp, 'mirrors');
    const r: Resource = { file: 'data.gz', urls: ['https://a/data.gz', 'https://b/data.gz', 'https://c/data.gz'], algorithm: 'md5', digest: md5 };
    const calls: string[] = [];
    const bad = Buffer.from('tampered');
    const fetch = fakeFetch({ 'https://a/data.gz': 404, 'https://b/data.gz': bad, 'https://c/data.gz': content }, calls);
    const paths = await downloadResources([r], dir, { fetch });
    expect(calls).toEqual(r.urls);
    expect(readFileSync(paths[0])).toEqual(content);
    expect(readdirSync(dir)).toEqual(['data.gz']); // no temp files left
    calls.length = 0;
    await downloadResources([r], dir, { fetch });
    expect(calls).toEqual([]);
  });

  it('when every mirror fails nothing is written and the error lists each mirror', async () => {
    const dir = join(tmp, 'fail');
    const r: Resource = { file: 'x.bin', urls: ['https://a/x.bin', 'https://b/x.bin'], algorithm: 'md5', digest: md5 };
    const fetch = fakeFetch({ 'https://b/x.bin': Buffer.from('wrong bytes') }, []);
    await expect(downloadResources([r], dir, { fetch })).rejects.toThrow(/cannot download x\.bin .*\n {2}https:\/\/a\/x\.bin: getaddrinfo ENOTFOUND\n {2}https:\/\/b\/x\.bin: md5 [0-9a-f]{32}, want/);
    expect(existsSync(join(dir, 'x.bin'))).toBe(false);
  });

  it('every dataset lists its official files with well-formed published checksums', () => {
    for (const name of DATASET_NAMES) {
      const rs = RESOURCES[name];
      expect(rs.length, name).toBeGreaterThan(0);
      for (const r of rs) {
        expect(r.digest, `${name} ${r.file}`).toMatch(r.algorithm === 'md5' ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{64}$/);
        expect(r.urls.every((u) => u.endsWith(r.file) && /^https?:\/\//.test(u)), `${name} ${r.file}`).toBe(true);
      }
    }
    expect(RESOURCES.mnist.map((r) => r.file)).toEqual(['train-images-idx3-ubyte.gz', 'train-labels-idx1-ubyte.gz', 't10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
    expect(RESOURCES.cifar10[0].digest).toBe('c32a1d4ab5d03f1284b67883e8d87530');
  });
});
