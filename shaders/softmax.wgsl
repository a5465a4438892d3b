// Softmax and log-softmax over the last dimension of a [rows, k] tensor, forward next to backward.
// One invocation per row, no barriers: rows are short (5..8 ops per edge, 10 classes, up to ~1000).
// Numerically stable: the row maximum is subtracted before exp.
// 1-D grid over rows: r = gid.x + gid.y * nwg.x * WG. Every entry point OVERWRITES its output.

override WG: u32 = 64;

struct P { rows: u32, k: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
// forward: written; backward: the forward's output, read
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>;

fn row(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

fn row_max(base: u32) -> f32 {
  var m = inp[base];
  for (var j = 1u; j < p.k; j++) { m = max(m, inp[base + j]); }
  return m;
}

// out[r, :] = exp(inp[r, :] - m) / Σ_j exp(inp[r, j] - m), m = max_j inp[r, j] (overwrites)
@compute @workgroup_size(WG)
fn softmax_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.k;
  let m = row_max(base);
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) {
    let e = exp(inp[base + j] - m);
    out[base + j] = e;
    s += e;
  }
  let inv = 1.0 / s;
  for (var j = 0u; j < p.k; j++) { out[base + j] = out[base + j] * inv; }
}

// out[r, :] = inp[r, :] - m - log(Σ_j exp(inp[r, j] - m)) (overwrites)
@compute @workgroup_size(WG)
fn log_softmax_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.k;
  let m = row_max(base);
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) { s += exp(inp[base + j] - m); }
  let lse = m + log(s);
  for (var j = 0u; j < p.k; j++) { out[base + j] = inp[base + j] - lse; }
}

// dinp = out ⊙ (dout - Σ_j dout_j out_j), out = softmax(inp) saved by the forward (overwrites)
@compute @workgroup_size(WG)
fn softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.k;
  var d = 0.0;
  for (var j = 0u; j < p.k; j++) { d += dout[base + j] * out[base + j]; }
  for (var j = 0u; j < p.k; j++) { dinp[base + j] = out[base + j] * (dout[base + j] - d); }
}

// dinp = dout - exp(out) · Σ_j dout_j, out = log_softmax(inp) saved by the forward (overwrites)
@compute @workgroup_size(WG)
fn log_softmax_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = row(gid, nwg);
  if (r >= p.rows) { return; }
  let base = r * p.k;
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) { s += dout[base + j]; }
  for (var j = 0u; j < p.k; j++) { dinp[base + j] = dout[base + j] - exp(out[base + j]) * s; }
}
