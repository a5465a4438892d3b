// 2-D convolution, NCHW, weight [Cout, Cin/groups, k, k], square stride/pad/dilation: the naive
// kernels, one output element per invocation. Correct for every shape and parameter; the fast paths are
// in conv2d-tiled.wgsl (general), conv2d-depthwise.wgsl and matmul.wgsl (1×1).
// out[n,co,oy,ox] = Σ_{ci in group, ky, kx} inp[n, g·cinG + ci, oy·s − p + ky·d, ox·s − p + kx·d] · weight[co,ci,ky,kx]
// 1-D grid of invocations split over x and y: i = gid.x + gid.y · nwg.x · WG.

override WG: u32 = 64;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(6) var<storage, read_write> dweight: array<f32>;

fn idx(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// input coordinate of output coordinate o at tap t (may be out of range: padding)
fn src(o: u32, t: u32) -> i32 { return i32(o * p.stride + t * p.dil) - i32(p.pad); }

// out = conv(inp, weight), one output per invocation (overwrites)
@compute @workgroup_size(WG)
fn forward_naive(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= p.N * p.Cout * p.Hout * p.Wout) { return; }
  let ox = i % p.Wout;
  let oy = (i / p.Wout) % p.Hout;
  let co = (i / (p.Wout * p.Hout)) % p.Cout;
  let n = i / (p.Wout * p.Hout * p.Cout);
  let c0 = (co / p.coutG) * p.cinG;
  var acc = 0.0;
  for (var ci = 0u; ci < p.cinG; ci++) {
    for (var ky = 0u; ky < p.k; ky++) {
      let iy = src(oy, ky);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      let row = ((n * p.Cin + c0 + ci) * p.H + u32(iy)) * p.W;
      for (var kx = 0u; kx < p.k; kx++) {
        let ix = src(ox, kx);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        acc += inp[row + u32(ix)] * weight[((co * p.cinG + ci) * p.k + ky) * p.k + kx];
      }
    }
  }
  out[i] = acc;
}

// output coordinate that reads input coordinate x at tap t, or -1 if none (stride skips it / out of range)
fn dst(x: u32, t: u32, size: u32) -> i32 {
  let q = i32(x + p.pad) - i32(t * p.dil);
  if (q < 0 || q % i32(p.stride) != 0) { return -1; }
  let o = q / i32(p.stride);
  return select(-1, o, o < i32(size));
}

// dinp = conv_transpose(dout, weight), one input element per invocation (overwrites)
@compute @workgroup_size(WG)
fn backward_input_naive(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= p.N * p.Cin * p.H * p.W) { return; }
  let ix = i % p.W;
  let iy = (i / p.W) % p.H;
  let c = (i / (p.W * p.H)) % p.Cin;
  let n = i / (p.W * p.H * p.Cin);
  let g = c / p.cinG;
  let ci = c % p.cinG;
  var acc = 0.0;
  for (var j = 0u; j < p.coutG; j++) {
    let co = g * p.coutG + j;
    for (var ky = 0u; ky < p.k; ky++) {
      let oy = dst(iy, ky, p.Hout);
      if (oy < 0) { continue; }
      let row = ((n * p.Cout + co) * p.Hout + u32(oy)) * p.Wout;
      for (var kx = 0u; kx < p.k; kx++) {
        let ox = dst(ix, kx, p.Wout);
        if (ox < 0) { continue; }
        acc += dout[row + u32(ox)] * weight[((co * p.cinG + ci) * p.k + ky) * p.k + kx];
      }
    }
  }
  dinp[i] = acc;
}

// dweight = Σ_{n,oy,ox} dout · inp, one weight per invocation looping over the whole batch (overwrites)
@compute @workgroup_size(WG)
fn backward_weight_naive(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= p.Cout * p.cinG * p.k * p.k) { return; }
  let kx = i % p.k;
  let ky = (i / p.k) % p.k;
  let ci = (i / (p.k * p.k)) % p.cinG;
  let co = i / (p.k * p.k * p.cinG);
  let c = (co / p.coutG) * p.cinG + ci;
  var acc = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.Hout; oy++) {
      let iy = src(oy, ky);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      let irow = ((n * p.Cin + c) * p.H + u32(iy)) * p.W;
      let orow = ((n * p.Cout + co) * p.Hout + oy) * p.Wout;
      for (var ox = 0u; ox < p.Wout; ox++) {
        let ix = src(ox, kx);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        acc += dout[orow + ox] * inp[irow + u32(ix)];
      }
    }
  }
  dweight[i] = acc;
}
