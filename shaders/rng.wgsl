// Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11), keyed by the seed, counted by
// (block, 0, counter). Element i takes word i % 4 of block i / 4, so the same (seed, counter) gives the
// same bits on every GPU; uniforms are exact, normal/gumbel differ only by the driver's exp/log/sin.
// One invocation per block of 4 elements: b = gid.x + gid.y * nwg.x * WG. Every entry OVERWRITES.

override WG: u32 = 64;

// key = seed (lo, hi words), ctr = counter (lo, hi words); a, b: per-entry parameters (see each entry)
struct P { n: u32, key0: u32, key1: u32, ctr0: u32, ctr1: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>;

// (high, low) words of the 64-bit product a·b, from 16-bit halves (WGSL has no 64-bit integers)
fn mulhilo(a: u32, b: u32) -> vec2u {
  let al = a & 0xffffu; let ah = a >> 16u;
  let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  let hi = ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
  return vec2u(hi, a * b);
}

fn philox(ctr: vec4u, key: vec2u) -> vec4u {
  var c = ctr;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    let p0 = mulhilo(0xD2511F53u, c.x);
    let p1 = mulhilo(0xCD9E8D57u, c.z);
    c = vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
    k = k + vec2u(0x9E3779B9u, 0xBB67AE85u);
  }
  return c;
}

fn block_bits(b: u32) -> vec4u { return philox(vec4u(b, 0u, p.ctr0, p.ctr1), vec2u(p.key0, p.key1)); }

// top 23 bits → (m + 0.5)·2^-23, exact in f32, strictly inside (0, 1)
fn unit_open(x: vec4u) -> vec4f { return (vec4f(x >> vec4u(9u)) + 0.5) * 1.1920928955078125e-7; }

fn write4(b: u32, v: vec4f) {
  let i = 4u * b;
  for (var j = 0u; j < 4u; j++) { if (i + j < p.n) { out[i + j] = v[j]; } }
}

fn block_of(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// out = a + b·u, u uniform in (0, 1)
@compute @workgroup_size(WG)
fn uniform_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  write4(b, p.a + p.b * unit_open(block_bits(b)));
}

// out = a + b·z, z standard normal by Box–Muller on the pairs (u0, u1), (u2, u3):
// r = sqrt(-2 ln u0), θ = 2π·u1 - π, z = (r cos θ, r sin θ) (θ in [-π, π] where sin/cos are accurate)
@compute @workgroup_size(WG)
fn normal_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  let u = unit_open(block_bits(b));
  let r = sqrt(-2.0 * log(u.xz));
  let th = 6.283185307179586 * u.yw - 3.141592653589793;
  let z = vec4f(r.x * cos(th.x), r.x * sin(th.x), r.y * cos(th.y), r.y * sin(th.y));
  write4(b, p.a + p.b * z);
}

// -log(u) for u in (0, 1), accurate near u = 1 (a short series in d = 1 - u, exact by Sterbenz)
fn neg_log(u: f32) -> f32 {
  let d = 1.0 - u;
  if (d < 0.00390625) { return d + d * d * (0.5 + d * (1.0 / 3.0 + 0.25 * d)); }
  return -log(u);
}

// out = a + b·g, g = -log(-log u) standard Gumbel (u is never 0 or 1, see unit_open())
@compute @workgroup_size(WG)
fn gumbel_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  let u = unit_open(block_bits(b));
  let g = -log(vec4f(neg_log(u.x), neg_log(u.y), neg_log(u.z), neg_log(u.w)));
  write4(b, p.a + p.b * g);
}

// out = b where u < a, else 0: a Bernoulli(a) mask with value b
@compute @workgroup_size(WG)
fn bernoulli_fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  write4(b, select(vec4f(0.0), vec4f(p.b), unit_open(block_bits(b)) < vec4f(p.a)));
}

// out = inp·b where u < a (kept), else 0; a = keep probability, b = 1/a
@compute @workgroup_size(WG)
fn dropout_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  let keep = unit_open(block_bits(b)) < vec4f(p.a);
  let i = 4u * b;
  for (var j = 0u; j < 4u; j++) { if (i + j < p.n) { out[i + j] = select(0.0, inp[i + j] * p.b, keep[j]); } }
}

// dinp = dout·b where the forward kept the element, else 0: the mask is regenerated from (seed, counter)
@compute @workgroup_size(WG)
fn dropout_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let b = block_of(gid, nwg);
  if (4u * b >= p.n) { return; }
  let keep = unit_open(block_bits(b)) < vec4f(p.a);
  let i = 4u * b;
  for (var j = 0u; j < 4u; j++) { if (i + j < p.n) { dinp[i + j] = select(0.0, dout[i + j] * p.b, keep[j]); } }
}
