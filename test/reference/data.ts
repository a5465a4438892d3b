/**
 * float64 reference of the dataset gather kernel (shaders/data.wgsl: gather): per-channel normalisation,
 * random crop from a zero-padded image and horizontal flip, with its own copy of the counter-based hash
 * (independent of src/, so a change on either side shows). Pure functions, no vitest import.
 */

/** xorshift-multiply 32-bit hash (same constants as hash_u32 in shaders/data.wgsl) */
export function hashU32Ref(v: number): number {
  let x = v >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  x = Number((BigInt(x) * 0x7feb352dn) & 0xffffffffn);
  x = (x ^ (x >>> 15)) >>> 0;
  x = Number((BigInt(x) * 0x846ca68bn) & 0xffffffffn);
  x = (x ^ (x >>> 16)) >>> 0;
  return x;
}

/** The augmentation of one image in one epoch: shifts in 0..2·pad of the padded crop, and the flip. */
export function augmentDraw(seed: number, epoch: number, index: number, pad: number, flip: boolean): { oy: number; ox: number; flipped: boolean } {
  const key = hashU32Ref((hashU32Ref((hashU32Ref((seed ^ 0x9e3779b9) >>> 0) ^ epoch) >>> 0) ^ index) >>> 0);
  const span = 2 * pad + 1;
  return {
    ox: Math.floor(((key & 0xffff) * span) / 65536),
    oy: Math.floor(((key >>> 16) * span) / 65536),
    flipped: flip && (hashU32Ref((key ^ 0x85ebca6b) >>> 0) & 1) === 1,
  };
}

export interface GatherRefOptions {
  mean: readonly number[];
  std: readonly number[];
  pad?: number;
  flip?: boolean;
  seed?: number;
  epoch?: number;
}

/**
 * x[b, c, y, x] = (P(idx_b)[c, y', x'] / 255 - mean[c]) / std[c], where P is the image zero-padded by
 * `pad`, cropped at (oy, ox), then flipped; y[b] = label of idx_b.
 */
export function gatherReference(
  images: Uint8Array, labels: Uint8Array, c: number, h: number, w: number,
  indices: ArrayLike<number>, o: GatherRefOptions,
): { x: Float64Array; y: Float64Array } {
  const pad = o.pad ?? 0;
  const bsz = indices.length;
  const x = new Float64Array(bsz * c * h * w);
  const y = new Float64Array(bsz);
  for (let b = 0; b < bsz; b++) {
    const idx = indices[b];
    y[b] = labels[idx];
    const aug = pad > 0 || o.flip ? augmentDraw(o.seed ?? 0, o.epoch ?? 0, idx, pad, Boolean(o.flip)) : { oy: pad, ox: pad, flipped: false };
    for (let ch = 0; ch < c; ch++) {
      for (let yy = 0; yy < h; yy++) {
        for (let xx = 0; xx < w; xx++) {
          const cx = aug.flipped ? w - 1 - xx : xx; // flip the crop
          const sy = yy + aug.oy - pad;
          const sx = cx + aug.ox - pad;
          const v = sy >= 0 && sy < h && sx >= 0 && sx < w ? images[((idx * c + ch) * h + sy) * w + sx] : 0;
          x[((b * c + ch) * h + yy) * w + xx] = (v / 255 - o.mean[ch]) / o.std[ch];
        }
      }
    }
  }
  return { x, y };
}
