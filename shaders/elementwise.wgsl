// Element-wise ops, forward next to backward. 1-D grid: i = gid.x + gid.y * nwg.x * WG.
// Every entry point OVERWRITES its output.

override WG: u32 = 256;

struct P { n: u32, a: f32, b: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> inp2: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

fn idx(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// out = clamp(inp, a, b): relu is (0, +inf), relu6 is (0, 6)
@compute @workgroup_size(WG)
fn clamp_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) { out[i] = min(max(inp[i], p.a), p.b); }
}

// dinp = dout where a < inp < b, else 0 (inp is the forward input)
@compute @workgroup_size(WG)
fn clamp_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) {
    let x = inp[i];
    out[i] = select(0.0, dout[i], x > p.a && x < p.b);
  }
}

// out = a * inp + b * inp2  (add: a = b = 1; sub: b = -1)
@compute @workgroup_size(WG)
fn lincomb(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) { out[i] = p.a * inp[i] + p.b * inp2[i]; }
}

// out = a * inp + b
@compute @workgroup_size(WG)
fn affine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) { out[i] = p.a * inp[i] + p.b; }
}

// out = inp * inp2 (element-wise product); its backward is two mul calls
@compute @workgroup_size(WG)
fn mul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) { out[i] = inp[i] * inp2[i]; }
}

// out[i] = a * dout[0]: the backward of a full sum (a = 1) or mean (a = 1/n), broadcast of a scalar
@compute @workgroup_size(WG)
fn broadcast_scalar(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < p.n) { out[i] = p.a * dout[0]; }
}

// Full reduction: out[0] = a * sum(inp). One workgroup of RWG lanes, each striding over the input, then
// a tree in workgroup memory. For the scalar losses/regularisers of a step (sizes up to ~1e6).
override RWG: u32 = 256;
var<workgroup> part: array<f32, RWG>;

@compute @workgroup_size(RWG)
fn sum_forward(@builtin(local_invocation_id) lid: vec3u) {
  var acc = 0.0;
  for (var i = lid.x; i < p.n; i += RWG) { acc += inp[i]; }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s = s / 2u) {
    if (lid.x < s) { part[lid.x] += part[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[0] = p.a * part[0]; }
}
