// 2-D convolution, register-tiled general kernels (any stride, padding, dilation, groups, size).
// Same layout and parameters as conv2d.wgsl. No workgroup memory, no barriers, no atomics: each
// invocation owns a 4×4 tile of its output and loops; positions past an edge are clamped for loading
// and masked (padding reads as 0) or not stored.
// x of the grid: spatial tiles (n, row, 4 columns); y: channel tiles of 4 within a group.

override WG: u32 = 64;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;

const LANE = vec4u(0u, 1u, 2u, 3u);

// out[n, co0..co0+3, oy, ox0..ox0+3] (overwrites)
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let tiles = (p.Wout + 3u) / 4u;
  if (gid.x >= p.N * p.Hout * tiles) { return; }
  let ox0 = (gid.x % tiles) * 4u;
  let oy = (gid.x / tiles) % p.Hout;
  let n = gid.x / (tiles * p.Hout);
  let tpg = (p.coutG + 3u) / 4u;
  let g = gid.y / tpg;
  let j0 = (gid.y % tpg) * 4u;
  let kk = p.k * p.k;
  let wb = (g * p.coutG + min(vec4u(j0) + LANE, vec4u(p.coutG - 1u))) * (p.cinG * kk);
  let x0 = vec4i(vec4u(ox0) + LANE) * i32(p.stride) - i32(p.pad);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var ci = 0u; ci < p.cinG; ci++) {
    let plane = (n * p.Cin + g * p.cinG + ci) * p.H;
    for (var ky = 0u; ky < p.k; ky++) {
      let iy = i32(oy * p.stride + ky * p.dil) - i32(p.pad);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      let row = (plane + u32(iy)) * p.W;
      let w = (ci * p.k + ky) * p.k;
      for (var kx = 0u; kx < p.k; kx++) {
        let xs = x0 + i32(kx * p.dil);
        let xi = row + vec4u(clamp(xs, vec4i(0), vec4i(i32(p.W) - 1)));
        let ok = (xs >= vec4i(0)) & (xs < vec4i(i32(p.W)));
        let v = select(vec4f(0.0), vec4f(inp[xi.x], inp[xi.y], inp[xi.z], inp[xi.w]), ok);
        a0 += weight[wb.x + w + kx] * v;
        a1 += weight[wb.y + w + kx] * v;
        a2 += weight[wb.z + w + kx] * v;
        a3 += weight[wb.w + w + kx] * v;
      }
    }
  }
  let acc = array<vec4f, 4>(a0, a1, a2, a3);
  let nc = min(4u, p.coutG - j0);
  let nx = min(4u, p.Wout - ox0);
  for (var c = 0u; c < nc; c++) {
    let o = ((n * p.Cout + g * p.coutG + j0 + c) * p.Hout + oy) * p.Wout + ox0;
    for (var j = 0u; j < nx; j++) { out[o + j] = acc[c][j]; }
  }
}

//!include conv2d-input-rows.wgsl

// dinp[n, ci0..ci0+3, iy, ix0..ix0+3] = Σ dout · weight over the outputs that read it (overwrites)
@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3u) {
  let tiles = (p.W + 3u) / 4u;
  if (gid.x >= p.N * p.H * tiles) { return; }
  let ix0 = (gid.x % tiles) * 4u;
  let iy = (gid.x / tiles) % p.H;
  let n = gid.x / (tiles * p.H);
  let tpg = (p.cinG + 3u) / 4u;
  let g = gid.y / tpg;
  let c0 = (gid.y % tpg) * 4u;
  let kk = p.k * p.k;
  let wc = min(vec4u(c0) + LANE, vec4u(p.cinG - 1u)) * kk;
  let q0 = vec4i(vec4u(ix0) + LANE) + i32(p.pad);
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var j = 0u; j < p.coutG; j++) {
    let co = g * p.coutG + j;
    let wb = co * p.cinG * kk;
    for (var ky = 0u; ky < p.k; ky++) {
      let oy = outRow(iy, ky, UNIT_STRIDE);
      if (oy < 0) { continue; }
      let row = ((n * p.Cout + co) * p.Hout + u32(oy)) * p.Wout;
      for (var kx = 0u; kx < p.k; kx++) {
        let v = gatherRow(row, q0 - i32(kx * p.dil), UNIT_STRIDE);
        let w = wb + ky * p.k + kx;
        a0 += weight[w + wc.x] * v;
        a1 += weight[w + wc.y] * v;
        a2 += weight[w + wc.z] * v;
        a3 += weight[w + wc.w] * v;
      }
    }
  }
  let acc = array<vec4f, 4>(a0, a1, a2, a3);
  let nc = min(4u, p.cinG - c0);
  let nx = min(4u, p.W - ix0);
  for (var c = 0u; c < nc; c++) {
    let o = ((n * p.Cin + g * p.cinG + c0 + c) * p.H + iy) * p.W + ix0;
    for (var j = 0u; j < nx; j++) { dinp[o + j] = acc[c][j]; }
  }
}
