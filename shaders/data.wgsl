// Dataset batching: gathers images stored as u8 (packed 4 per u32 word, little-endian) by an index list
// into an f32 NCHW batch normalised per channel, (pixel/255 - mean[c]) / std[c], and their labels into an
// f32 [B] tensor (class indices as floats). Optional augmentation (CIFAR style): a random crop from the
// image zero-padded by `pad` pixels (zero is the raw pixel, so it normalises to -mean/std, as in the
// torchvision pipeline) and a random horizontal flip (crop first, then flip), drawn from a counter-based
// hash of (seed, epoch, dataset index): the same image gets the same crop in a given epoch, whatever
// the batching. 1-D grid over the batch's B·C·H·W elements: i = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 256;

struct P {
  batch: u32,   // B
  offset: u32,  // position in `order` of the batch's first image
  first: u32,   // dataset index of this chunk's first image
  count: u32,   // images in this chunk
  c: u32,
  h: u32,
  w: u32,
  seed: u32,
  epoch: u32,
  pad: u32,     // crop padding in pixels (0: no crop)
  flip: u32,    // 1: random horizontal flip
  mean: vec4f,  // per channel, of pixel/255
  stdev: vec4f, // per channel std ("std" is reserved in WGSL)
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<u32>;               // this chunk's pixels, NCHW bytes
@group(0) @binding(2) var<storage, read> labels: array<u32>;            // one per dataset image
@group(0) @binding(3) var<storage, read> order: array<u32>;             // dataset indices
@group(0) @binding(4) var<storage, read_write> out: array<f32>;         // [B, C, H, W]
@group(0) @binding(5) var<storage, read_write> out_labels: array<f32>;  // [B]

// 32-bit integer hash (xorshift-multiply); test/reference/data.ts implements the same
fn hash_u32(v: u32) -> u32 {
  var x = v;
  x ^= x >> 16u;
  x *= 0x7feb352du;
  x ^= x >> 15u;
  x *= 0x846ca68bu;
  x ^= x >> 16u;
  return x;
}

// one key per (seed, epoch, image): low 16 bits pick the x shift, high 16 bits the y shift
fn aug_key(seed: u32, epoch: u32, index: u32) -> u32 {
  return hash_u32(hash_u32(hash_u32(seed ^ 0x9e3779b9u) ^ epoch) ^ index);
}

// a value in 0..span-1 from 16 random bits
fn draw(bits: u32, span: u32) -> u32 {
  return (bits * span) >> 16u;
}

fn in_chunk(idx: u32) -> bool {
  return idx >= p.first && idx - p.first < p.count;
}

// out[b, c, y, x] = normalised pixel of image order[offset + b]; out_labels[b] = its label.
// OVERWRITES out and out_labels, but only for batch entries whose image lies in this chunk
// [first, first + count): a dataset larger than one storage binding is split over several buffers,
// and one dispatch per chunk together writes every element once.
@compute @workgroup_size(WG)
fn gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.batch) {
    let li = order[p.offset + i];
    if (in_chunk(li)) { out_labels[i] = f32(labels[li]); }
  }
  let hw = p.h * p.w;
  let chw = p.c * hw;
  if (i >= p.batch * chw) { return; }
  let b = i / chw;
  let r = i - b * chw;
  let ch = r / hw;
  let yx = r - ch * hw;
  let idx = order[p.offset + b];
  if (!in_chunk(idx)) { return; }
  var sy = i32(yx / p.w);
  var sx = i32(yx % p.w);
  if (p.pad > 0u || p.flip != 0u) {
    let key = aug_key(p.seed, p.epoch, idx);
    if (p.flip != 0u && (hash_u32(key ^ 0x85ebca6bu) & 1u) == 1u) { sx = i32(p.w) - 1 - sx; }
    let span = 2u * p.pad + 1u;
    sx += i32(draw(key & 0xffffu, span)) - i32(p.pad);
    sy += i32(draw(key >> 16u, span)) - i32(p.pad);
  }
  var v = 0.0;
  if (sy >= 0 && sy < i32(p.h) && sx >= 0 && sx < i32(p.w)) {
    let f = (idx - p.first) * chw + ch * hw + u32(sy) * p.w + u32(sx);
    v = f32((inp[f >> 2u] >> ((f & 3u) * 8u)) & 0xffu);
  }
  out[i] = (v / 255.0 - p.mean[ch]) / p.stdev[ch];
}
