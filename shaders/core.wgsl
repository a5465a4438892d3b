// Core element-wise kernels the runtime itself needs: fill, copy, accumulate, axpy.
// 1-D kernels take a grid of up to two dimensions (see grid() in src/gpu/gpu-device.ts):
// i = gid.x + gid.y * num_workgroups.x * WG.

override WG: u32 = 256;

struct Fill { n: u32, value: f32 }
@group(0) @binding(0) var<uniform> pf: Fill;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

// out[i] = value (overwrites)
@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < pf.n) { out[i] = pf.value; }
}

struct Len { n: u32 }
@group(0) @binding(2) var<uniform> pn: Len;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

// dst[i] = inp[i] (overwrites)
@compute @workgroup_size(WG)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < pn.n) { dst[i] = inp[i]; }
}

// dst[i] += inp[i] (accumulates)
@compute @workgroup_size(WG)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < pn.n) { dst[i] = dst[i] + inp[i]; }
}

struct Axpy { n: u32, a: f32 }
@group(0) @binding(5) var<uniform> pa: Axpy;
@group(0) @binding(6) var<storage, read> x: array<f32>;
@group(0) @binding(7) var<storage, read> y: array<f32>;
@group(0) @binding(8) var<storage, read_write> res: array<f32>;

// res[i] = a * x[i] + y[i] (overwrites)
@compute @workgroup_size(WG)
fn axpy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < pa.n) { res[i] = pa.a * x[i] + y[i]; }
}
