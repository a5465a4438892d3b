// Selection ops for architecture parameters (small vectors): gather by index list, and the
// straight-through one-hot used by hard Gumbel / binary / ordered samplers.

struct G { n: u32, m: u32 }  // n = number of gathered elements, m = size of the source
@group(0) @binding(0) var<uniform> pg: G;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> idx: array<u32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

// out[i] = inp[idx[i]] (overwrites)
@compute @workgroup_size(64)
fn gather_forward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < pg.n) { out[i] = inp[idx[i]]; }
}

// dinp[j] = Σ_{i : idx[i] == j} dout[i]  (overwrites; a gather over i, so repeated indices need no atomics)
@compute @workgroup_size(64)
fn gather_backward(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= pg.m) { return; }
  var acc = 0.0;
  for (var i = 0u; i < pg.n; i++) { if (idx[i] == j) { acc += dout[i]; } }
  out[j] = acc;
}

struct S { n: u32, k: u32, scale: f32 }
@group(0) @binding(5) var<uniform> ps: S;

// Straight-through one-hot: out = onehot(k) of length n, whatever inp is (overwrites).
@compute @workgroup_size(64)
fn onehot_st_forward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < ps.n) { out[i] = select(0.0, 1.0, i == ps.k); }
}

// Its backward: dinp = scale · dout (the one-hot is treated as p − stopgrad(p) + onehot) (overwrites).
@compute @workgroup_size(64)
fn onehot_st_backward(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i < ps.n) { out[i] = ps.scale * dout[i]; }
}
