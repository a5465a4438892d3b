// Classification losses over logits inp [n, c] with integer class labels stored as f32 [n]
// (exact for indices < 2^24). Forward next to backward.
//
// Label validation: a label that is not an integer in [0, c) (negative, >= c, fractional, NaN) is
// flagged, not clamped: its row's loss and gradient are NaN, so the mean loss reads NaN at the first
// readback and a bad batch cannot train silently. accuracy() counts such a row as wrong.

override WG: u32 = 256;
override RWG: u32 = 256;

struct P { n: u32, c: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<f32>;
// per-row log-sum-exp: written by the forward, read by the backward
@group(0) @binding(3) var<storage, read_write> lse: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;

var<workgroup> part: array<f32, RWG>;

// the class index of row i, or -1 when the label is invalid
fn label_of(i: u32) -> i32 {
  let l = labels[i];
  if (l >= 0.0 && l < f32(p.c) && l == floor(l)) { return i32(l); }
  return -1;
}

// a quiet NaN built at run time (a constant NaN is a WGSL compile error)
fn nan() -> f32 { return bitcast<f32>(0x7fc00000u | min(p.n, 0u)); }

// sum of part[0..RWG) into part[0]; every lane must call it
fn tree(lid: u32) {
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
}

// lse[i] = log Σ_j exp(inp[i, j]);  out[0] = scale · Σ_i (lse[i] - inp[i, label_i])  (overwrites both)
// One workgroup of RWG lanes striding over rows, then a tree. scale = 1/n gives the batch mean.
@compute @workgroup_size(RWG)
fn cross_entropy_forward(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var i = lid.x; i < p.n; i += RWG) {
    let base = i * p.c;
    var m = inp[base];
    for (var j = 1u; j < p.c; j++) { m = max(m, inp[base + j]); }
    var s = 0.0;
    for (var j = 0u; j < p.c; j++) { s += exp(inp[base + j] - m); }
    let l = m + log(s);
    lse[i] = l;
    let y = label_of(i);
    acc += select(nan(), l - inp[base + u32(max(y, 0))], y >= 0);
  }
  part[lid.x] = acc;
  tree(lid.x);
  if (lid.x == 0u) { out[0] = p.scale * part[0]; }
}

// dinp[i, j] = scale · dout[0] · (exp(inp[i, j] - lse[i]) - [j == label_i])  (overwrites)
// 1-D grid over n·c elements: e = gid.x + gid.y * nwg.x * WG
@compute @workgroup_size(WG)
fn cross_entropy_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * WG;
  if (e >= p.n * p.c) { return; }
  let i = e / p.c;
  let y = label_of(i);
  let g = exp(inp[e] - lse[i]) - select(0.0, 1.0, i32(e - i * p.c) == y);
  dinp[e] = select(nan(), p.scale * dout[0] * g, y >= 0);
}

// out[0] = number of rows whose first arg-max equals the label (overwrites). One workgroup.
@compute @workgroup_size(RWG)
fn accuracy_count(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var i = lid.x; i < p.n; i += RWG) {
    let base = i * p.c;
    var best = 0u;
    var m = inp[base];
    for (var j = 1u; j < p.c; j++) {
      let v = inp[base + j];
      if (v > m) { m = v; best = j; }
    }
    acc += select(0.0, 1.0, i32(best) == label_of(i));
  }
  part[lid.x] = acc;
  tree(lid.x);
  if (lid.x == 0u) { out[0] = part[0]; }
}
