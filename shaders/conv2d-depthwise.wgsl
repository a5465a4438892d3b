// Depthwise 2-D convolution (groups = Cin = Cout = C, weight [C, 1, k, k]), any stride/padding/dilation.
// Same parameters as conv2d.wgsl (Cin = Cout = groups, cinG = coutG = 1). Each invocation owns 4
// consecutive columns of one row of one channel; backward_weight sums over chunks of rows into
// partial[chunk, c, ky, kx] (conv2d-weight.wgsl:sum_chunks adds the chunks).
// 1-D grid of invocations split over x and y: i = gid.x + gid.y · nwg.x · WG.

override WG: u32 = 64;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;

const LANE = vec4u(0u, 1u, 2u, 3u);

// 4 masked loads of one row at columns xs (padding reads 0)
fn load4(row: u32, xs: vec4i, width: u32) -> vec4f {
  let xi = row + vec4u(clamp(xs, vec4i(0), vec4i(i32(width) - 1)));
  let ok = (xs >= vec4i(0)) & (xs < vec4i(i32(width)));
  return select(vec4f(0.0), vec4f(inp[xi.x], inp[xi.y], inp[xi.z], inp[xi.w]), ok);
}

// out[n, c, oy, ox0..ox0+3] (overwrites)
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let tiles = (p.Wout + 3u) / 4u;
  if (i >= p.N * p.Cout * p.Hout * tiles) { return; }
  let ox0 = (i % tiles) * 4u;
  let oy = (i / tiles) % p.Hout;
  let nc = i / (tiles * p.Hout);
  let c = nc % p.Cout;
  let x0 = vec4i(vec4u(ox0) + LANE) * i32(p.stride) - i32(p.pad);
  var acc = vec4f(0.0);
  for (var ky = 0u; ky < p.k; ky++) {
    let iy = i32(oy * p.stride + ky * p.dil) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    let row = (nc * p.H + u32(iy)) * p.W;
    for (var kx = 0u; kx < p.k; kx++) {
      acc += weight[(c * p.k + ky) * p.k + kx] * load4(row, x0 + i32(kx * p.dil), p.W);
    }
  }
  let o = (nc * p.Hout + oy) * p.Wout + ox0;
  for (var j = 0u; j < min(4u, p.Wout - ox0); j++) { out[o + j] = acc[j]; }
}

//!include conv2d-input-rows.wgsl

// dinp[n, c, iy, ix0..ix0+3] (overwrites)
@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let tiles = (p.W + 3u) / 4u;
  if (i >= p.N * p.Cin * p.H * tiles) { return; }
  let ix0 = (i % tiles) * 4u;
  let iy = (i / tiles) % p.H;
  let nc = i / (tiles * p.H);
  let c = nc % p.Cin;
  let q0 = vec4i(vec4u(ix0) + LANE) + i32(p.pad);
  var acc = vec4f(0.0);
  for (var ky = 0u; ky < p.k; ky++) {
    let oy = outRow(iy, ky, UNIT_STRIDE);
    if (oy < 0) { continue; }
    let row = (nc * p.Hout + u32(oy)) * p.Wout;
    for (var kx = 0u; kx < p.k; kx++) {
      acc += weight[(c * p.k + ky) * p.k + kx] * gatherRow(row, q0 - i32(kx * p.dil), UNIT_STRIDE);
    }
  }
  let o = (nc * p.H + iy) * p.W + ix0;
  for (var j = 0u; j < min(4u, p.W - ix0); j++) { dinp[o + j] = acc[j]; }
}

// partial[chunk, c, ky, kx] = Σ over the chunk's rows (n, oy) of dout · inp (overwrites);
// x of the grid: (c, ky, kx); y: chunk
@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u) {
  let kk = p.k * p.k;
  if (gid.x >= p.Cout * kk) { return; }
  let kx = gid.x % p.k;
  let ky = (gid.x / p.k) % p.k;
  let c = gid.x / kk;
  let r0 = gid.y * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.N * p.Hout);
  var acc = vec4f(0.0);
  for (var r = r0; r < r1; r++) {
    let n = r / p.Hout;
    let oy = r % p.Hout;
    let iy = i32(oy * p.stride + ky * p.dil) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    let irow = ((n * p.Cin + c) * p.H + u32(iy)) * p.W;
    let orow = ((n * p.Cout + c) * p.Hout + oy) * p.Wout;
    for (var ox0 = 0u; ox0 < p.Wout; ox0 += 4u) {
      let oxs = vec4u(ox0) + LANE;
      let oi = orow + min(oxs, vec4u(p.Wout - 1u));
      let d = select(vec4f(0.0), vec4f(dout[oi.x], dout[oi.y], dout[oi.z], dout[oi.w]), oxs < vec4u(p.Wout));
      acc += d * load4(irow, vec4i(oxs) * i32(p.stride) + i32(kx * p.dil) - i32(p.pad), p.W);
    }
  }
  partial[gid.y * p.Cout * kk + gid.x] = acc.x + acc.y + acc.z + acc.w;
}
