// Depthwise 2-D convolution, stride 1, row-window kernel (the fast depthwise path; same parameters as
// conv2d.wgsl with groups = Cin = Cout). Each invocation owns a 4-column × TY-row output tile of one
// channel (TY <= 8, an override): it loads each of the TY + (K−1)·DIL input rows' windows
// (4 + (K−1)·DIL columns) once, vec4 at a time when rows are vec4-aligned, and applies every tap that
// reads it. K, DIL, PAD are override constants (a size class) so the loops unroll and windows, weights
// and accumulators stay in registers. FLIP rotates the kernel 180°: with PAD' = DIL·(K−1) − PAD this
// computes the stride-1 backward w.r.t. the input from dout.
// 1-D grid split over x and y: i = gid.x + gid.y · nwg.x · WG.

override WG: u32 = 64;
override K: u32 = 3;
override DIL: u32 = 1;
override PAD: u32 = 1;
override VEC: bool = true;
override FLIP: bool = false;
override TY: u32 = 8u;
const TMAX = 8u;
const WMAX = 24u;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> out4: array<vec4f>;

// The ty×4 tile at output row oy0, column ox0 of plane nc = n·C + c. The overrides come in as arguments
// (constants once inlined): reflection lists only the overrides an entry point names itself.
fn tile(nc: u32, oy0: u32, ox0: u32, k: u32, dil: u32, pad: u32, vec: bool, flip: bool, ty: u32) -> array<vec4f, TMAX> {
  let c = nc % p.Cout;
  let kk = k * k;
  var w: array<f32, 49>;
  for (var t = 0u; t < kk; t++) { w[t] = weight[c * kk + select(t, kk - 1u - t, flip)]; }
  // window: input columns ox0 − pad + j, j < WL, held in buf at offset OFF (vec4 loads start QL vec4s left)
  let QL = (pad + 3u) / 4u;
  let OFF = 4u * QL - pad;
  let WL = 4u + (k - 1u) * dil;
  let NQ = (OFF + WL + 3u) / 4u;
  let W4 = p.W / 4u;
  var acc: array<vec4f, TMAX>;
  for (var r = 0u; r < ty + (k - 1u) * dil; r++) {
    let iy = i32(oy0 + r) - i32(pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    var buf: array<f32, WMAX>;
    if (vec) {
      let q0 = i32(ox0 / 4u) - i32(QL);
      let rowq = (nc * p.H + u32(iy)) * W4;
      for (var j = 0u; j < NQ; j++) {
        let qi = q0 + i32(j);
        let v = select(vec4f(0.0), inp4[rowq + u32(clamp(qi, 0, i32(W4) - 1))], qi >= 0 && qi < i32(W4));
        buf[4u * j] = v.x;
        buf[4u * j + 1u] = v.y;
        buf[4u * j + 2u] = v.z;
        buf[4u * j + 3u] = v.w;
      }
    } else {
      let row = (nc * p.H + u32(iy)) * p.W;
      for (var j = 0u; j < WL; j++) {
        let ix = i32(ox0 + j) - i32(pad);
        buf[OFF + j] = select(0.0, inp[row + u32(clamp(ix, 0, i32(p.W) - 1))], ix >= 0 && ix < i32(p.W));
      }
    }
    // output row t reads this input row at tap ky = (r − t) / dil
    for (var t = 0u; t < ty; t++) {
      if (r < t || (r - t) % dil != 0u || (r - t) / dil >= k) { continue; }
      let ky = (r - t) / dil;
      for (var kx = 0u; kx < k; kx++) {
        let o = OFF + kx * dil;
        acc[t] += w[ky * k + kx] * vec4f(buf[o], buf[o + 1u], buf[o + 2u], buf[o + 3u]);
      }
    }
  }
  return acc;
}

// out[n, c, oy0..oy0+TY−1, ox0..ox0+3] (overwrites); bind inp4 and inp to the same buffer
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let tx = (p.Wout + 3u) / 4u;
  let ty = (p.Hout + TY - 1u) / TY;
  if (i >= p.N * p.Cout * tx * ty) { return; }
  let ox0 = (i % tx) * 4u;
  let oy0 = ((i / tx) % ty) * TY;
  let nc = i / (tx * ty);
  let acc = tile(nc, oy0, ox0, K, DIL, PAD, VEC, FLIP, TY);
  let nx = min(4u, p.Wout - ox0);
  for (var t = 0u; t < min(TY, p.Hout - oy0); t++) {
    let o = (nc * p.Hout + oy0 + t) * p.Wout + ox0;
    for (var j = 0u; j < nx; j++) { out[o + j] = acc[t][j]; }
  }
}

// The same with vec4 stores, for Wout % 4 == 0 (overwrites)
@compute @workgroup_size(WG)
fn forward_vec4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let tx = p.Wout / 4u;
  let ty = (p.Hout + TY - 1u) / TY;
  if (i >= p.N * p.Cout * tx * ty) { return; }
  let oq = i % tx;
  let oy0 = ((i / tx) % ty) * TY;
  let nc = i / (tx * ty);
  let acc = tile(nc, oy0, oq * 4u, K, DIL, PAD, VEC, FLIP, TY);
  for (var t = 0u; t < min(TY, p.Hout - oy0); t++) { out4[(nc * p.Hout + oy0 + t) * tx + oq] = acc[t]; }
}
