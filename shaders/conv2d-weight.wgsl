// 2-D convolution, gradient w.r.t. the weight: a reduction over N·Hout·Wout, done without atomics or
// barriers in two passes. backward_weight: each invocation owns 4 output channels × 4 input channels
// at one tap (ky, kx) and sums over one chunk of output rows (n, oy), writing partial[chunk, ...].
// sum_chunks: dweight[i] = Σ_chunk partial[chunk, i]. With one chunk, partial is dweight itself.
// Same layout and parameters as conv2d.wgsl.

override WG: u32 = 64;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(6) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;
@group(0) @binding(8) var<storage, read> partials: array<f32>;

const LANE = vec4u(0u, 1u, 2u, 3u);

// partial[chunk, co0..co0+3, ci0..ci0+3, ky, kx] = Σ over the chunk's rows (overwrites)
@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u) {
  let kk = p.k * p.k;
  let ti = (p.cinG + 3u) / 4u;
  let to = (p.coutG + 3u) / 4u;
  if (gid.x >= p.groups * to * ti * kk) { return; }
  let kx = gid.x % p.k;
  let ky = (gid.x / p.k) % p.k;
  let c0 = ((gid.x / kk) % ti) * 4u;
  let t = gid.x / (kk * ti);
  let g = t / to;
  let j0 = (t % to) * 4u;
  let cos = g * p.coutG + min(vec4u(j0) + LANE, vec4u(p.coutG - 1u));
  let cis = g * p.cinG + min(vec4u(c0) + LANE, vec4u(p.cinG - 1u));
  let planeO = p.Hout * p.Wout;
  let planeI = p.H * p.W;
  let r0 = gid.y * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.N * p.Hout);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var r = r0; r < r1; r++) {
    let n = r / p.Hout;
    let oy = r % p.Hout;
    let iy = i32(oy * p.stride + ky * p.dil) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    let ob = (n * p.Cout + cos) * planeO + oy * p.Wout;
    let ib = (n * p.Cin + cis) * planeI + u32(iy) * p.W;
    for (var ox = 0u; ox < p.Wout; ox++) {
      let ix = i32(ox * p.stride + kx * p.dil) - i32(p.pad);
      if (ix < 0 || ix >= i32(p.W)) { continue; }
      let x = vec4f(inp[ib.x + u32(ix)], inp[ib.y + u32(ix)], inp[ib.z + u32(ix)], inp[ib.w + u32(ix)]);
      a0 += dout[ob.x + ox] * x;
      a1 += dout[ob.y + ox] * x;
      a2 += dout[ob.z + ox] * x;
      a3 += dout[ob.w + ox] * x;
    }
  }
  let acc = array<vec4f, 4>(a0, a1, a2, a3);
  let size = p.Cout * p.cinG * kk;
  let nco = min(4u, p.coutG - j0);
  let nci = min(4u, p.cinG - c0);
  for (var c = 0u; c < nco; c++) {
    let o = gid.y * size + ((g * p.coutG + j0 + c) * p.cinG + c0) * kk + ky * p.k + kx;
    for (var j = 0u; j < nci; j++) { partial[o + j * kk] = acc[c][j]; }
  }
}

// dweight[i] = Σ_chunk partials[chunk · size + i], size = Cout·cinG·k·k (overwrites)
@compute @workgroup_size(WG)
fn sum_chunks(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let size = p.Cout * p.cinG * p.k * p.k;
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= size) { return; }
  var acc = 0.0;
  for (var c = 0u; c < p.chunks; c++) { acc += partials[c * size + i]; }
  dweight[i] = acc;
}
