// Optimizer steps, one fused kernel per parameter tensor, and global gradient-norm clipping.
// Hyper-parameters travel in uniforms. 1-D grids: i = gid.x + gid.y * nwg.x * WG.
// All steps update param and their state IN PLACE.

override WG: u32 = 256;
override RWG: u32 = 256;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read_write> grad: array<f32>;

fn idx(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// ---- SGD (PyTorch semantics, dampening 0) ----
struct Sgd { n: u32, lr: f32, momentum: f32, weight_decay: f32, nesterov: u32 }
@group(0) @binding(0) var<uniform> ps: Sgd;
@group(0) @binding(3) var<storage, read_write> buf: array<f32>;

// g = grad + wd·param; buf = momentum·buf + g; param -= lr·(nesterov ? g + momentum·buf : buf)
// (updates param and buf in place)
@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= ps.n) { return; }
  let w = param[i];
  let g = grad[i] + ps.weight_decay * w;
  let b = ps.momentum * buf[i] + g;
  buf[i] = b;
  param[i] = w - ps.lr * select(b, g + ps.momentum * b, ps.nesterov != 0u);
}

// param -= lr·(grad + wd·param) (updates param in place; momentum 0 needs no buffer)
@compute @workgroup_size(WG)
fn sgd_plain(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= ps.n) { return; }
  let w = param[i];
  param[i] = w - ps.lr * (grad[i] + ps.weight_decay * w);
}

// ---- Adam / AdamW (PyTorch semantics) ----
// step_size = lr / (1 - beta1^t), bc2_sqrt = sqrt(1 - beta2^t), computed on the host in float64.
struct Adam { n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, step_size: f32, bc2_sqrt: f32, decoupled: u32 }
@group(0) @binding(4) var<uniform> pa: Adam;
@group(0) @binding(5) var<storage, read_write> m: array<f32>;
@group(0) @binding(6) var<storage, read_write> v: array<f32>;

// Adam: g = grad + wd·param.  AdamW (decoupled): param *= 1 - lr·wd, g = grad.
// m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²; param -= step_size · m / (sqrt(v)/bc2_sqrt + eps)
// (updates param, m and v in place)
@compute @workgroup_size(WG)
fn adam_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= pa.n) { return; }
  var w = param[i];
  var g = grad[i];
  if (pa.decoupled != 0u) { w = w * (1.0 - pa.lr * pa.weight_decay); } else { g = g + pa.weight_decay * w; }
  let mi = pa.beta1 * m[i] + (1.0 - pa.beta1) * g;
  let vi = pa.beta2 * v[i] + (1.0 - pa.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  param[i] = w - pa.step_size * mi / (sqrt(vi) / pa.bc2_sqrt + pa.eps);
}

// ---- global gradient-norm clipping ----
struct Clip { n: u32, off: u32, cols: u32, max_norm: f32 }
@group(0) @binding(7) var<uniform> pc: Clip;
@group(0) @binding(8) var<storage, read_write> part: array<f32>;
@group(0) @binding(9) var<storage, read_write> norm: array<f32>;
@group(0) @binding(10) var<storage, read_write> factor: array<f32>;

// part[off + t] = Σ_{i ≡ t mod cols} grad[i]²; cols threads, barrier-free (overwrites its slice)
@compute @workgroup_size(WG)
fn sumsq_partial(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x;
  var acc = 0.0;
  for (var i = t; i < pc.n; i += pc.cols) { let g = grad[i]; acc += g * g; }
  part[pc.off + t] = acc;
}

var<workgroup> tree: array<f32, RWG>;

// norm[0] = sqrt(Σ part[0..n)); factor[0] = min(1, max_norm / (norm + 1e-6)) (overwrites). One workgroup.
@compute @workgroup_size(RWG)
fn clip_factor(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var t = lid.x; t < pc.n; t += RWG) { acc += part[t]; }
  tree[lid.x] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { tree[lid.x] += tree[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let nrm = sqrt(tree[0]);
    norm[0] = nrm;
    factor[0] = min(1.0, pc.max_norm / (nrm + 1e-6));
  }
}

// grad *= factor[0] (in place)
@compute @workgroup_size(WG)
fn scale_grad(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < pc.n) { grad[i] = grad[i] * factor[0]; }
}
