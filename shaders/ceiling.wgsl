// Adapter ceilings for the roofline: an FMA-bound kernel and a bandwidth-bound copy.

override WG: u32 = 256;

struct P { n: u32, iters: u32, seed: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> inp: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;

// 8 independent vec4 FMA chains per invocation, `iters` times: 64 flops per iteration. Overwrites out.
@compute @workgroup_size(WG)
fn fma_chain(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let b = vec4f(0.9999, 1.0001, 0.99995, 1.00005);
  let c = vec4f(p.seed * 1e-7);
  var a0 = vec4f(f32(i) * 1e-9); var a1 = a0 + 0.1; var a2 = a0 + 0.2; var a3 = a0 + 0.3;
  var a4 = a0 + 0.4; var a5 = a0 + 0.5; var a6 = a0 + 0.6; var a7 = a0 + 0.7;
  for (var k = 0u; k < p.iters; k++) {
    a0 = fma(a0, b, c); a1 = fma(a1, b, c); a2 = fma(a2, b, c); a3 = fma(a3, b, c);
    a4 = fma(a4, b, c); a5 = fma(a5, b, c); a6 = fma(a6, b, c); a7 = fma(a7, b, c);
  }
  out[i] = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
}

// out = inp, vec4 at a time (overwrites): n vec4s read and written.
@compute @workgroup_size(WG)
fn copy4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i < p.n) { out[i] = inp[i]; }
}
