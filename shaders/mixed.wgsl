// DARTS mixed edge: out = Σ_k weight[k] · inp_k. Candidates go in groups of up to 4 per dispatch
// (inp0..inp3 + weight + out = 6 storage buffers, under the limit of 8 per stage), so any number of
// candidates works and out is read-modified-written once per 4 candidates. Forward next to backward.
// 1-D grids: i = gid.x + gid.y * nwg.x * WG.

override WG: u32 = 256;
override RWG: u32 = 256;

// k: index into weight of the first candidate of the group (row offset included); m: candidates in
// the group (1..4; unused inp slots are bound to inp0 and ignored); cols: partial sums per candidate
struct P { n: u32, k: u32, m: u32, cols: u32, acc: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(5) var<storage, read_write> part: array<f32>;
@group(0) @binding(6) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(7) var<storage, read> inp1: array<f32>;
@group(0) @binding(8) var<storage, read> inp2: array<f32>;
@group(0) @binding(9) var<storage, read> inp3: array<f32>;

fn idx(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// Σ_{j < m} weight[k + j] · inp_j[i] for the group's candidates (inp_0 is inp)
fn group_sum(i: u32) -> f32 {
  var s = weight[p.k] * inp[i];
  if (p.m > 1u) { s += weight[p.k + 1u] * inp1[i]; }
  if (p.m > 2u) { s += weight[p.k + 2u] * inp2[i]; }
  if (p.m > 3u) { s += weight[p.k + 3u] * inp3[i]; }
  return s;
}

// out = Σ_j weight[k + j] · inp_j (overwrites when acc = 0: the first group of the forward, and with
// m = 1, inp = dout the backward dinp_k = weight[k] · dout); out += ... (accumulates) when acc = 1
@compute @workgroup_size(WG)
fn weighted_sum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= p.n) { return; }
  let s = group_sum(i);
  if (p.acc != 0u) { out[i] = out[i] + s; } else { out[i] = s; }
}

// Barrier-free first pass of dweight[k + j] = Σ_i dout[i] · inp_j[i] for the group's m candidates:
// T = cols threads (cols / WG workgroups); thread t sums i = t, t + T, ... and writes
// part[(k + j)·cols + t] (overwrites). Here k counts candidates from 0 (no row offset).
@compute @workgroup_size(WG)
fn dot_partial(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  var acc = vec4f(0.0);
  for (var i = t; i < p.n; i += p.cols) {
    let d = dout[i];
    acc.x += d * inp[i];
    if (p.m > 1u) { acc.y += d * inp1[i]; }
    if (p.m > 2u) { acc.z += d * inp2[i]; }
    if (p.m > 3u) { acc.w += d * inp3[i]; }
  }
  for (var j = 0u; j < p.m; j++) { part[(p.k + j) * p.cols + t] = acc[j]; }
}

var<workgroup> tree: array<f32, RWG>;

// Second pass: dweight[k + r] = Σ_t part[r·cols + t], one workgroup per row r (overwrites).
@compute @workgroup_size(RWG)
fn row_sum(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let base = wid.x * p.cols;
  var acc = 0.0;
  for (var t = lid.x; t < p.cols; t += RWG) { acc += part[base + t]; }
  tree[lid.x] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { tree[lid.x] += tree[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { dweight[p.k + wid.x] = tree[0]; }
}
