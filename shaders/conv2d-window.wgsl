// 2-D convolution, stride 1 or 2, row-window kernel: the fast path for dense and grouped convolutions,
// and (with flipped, transposed weights) for their stride-1 backward w.r.t. the input.
// Each invocation owns 4 output channels × 4·TXQ columns of one output row. Per (input channel, ky) it loads
// the input row window of (4·TXQ − 1)·STRIDE + (K−1)·DIL + 1 columns ONCE (vec4 loads when rows are
// vec4-aligned) and reuses
// it for all K taps; weights are pre-packed as [g, ci, ky, kx, co (padded to 4)] so each tap is one vec4
// load for 4 channels. K, DIL, PAD, STRIDE are override constants (a size class) so the tap loops unroll and
// the window lives in registers. On lavapipe loads (bounds-checked lane by lane, per element), not FMAs,
// bound these kernels: this one does 4·K·4·TXQ FMAs per (ci, ky) for about 4·TXQ + 4 + 4·K loaded elements.

override WG: u32 = 64;
override K: u32 = 3;
override DIL: u32 = 1;
override PAD: u32 = 1;
override STRIDE: u32 = 1;
// true when W % 4 == 0: every aligned vec4 of a row lies wholly inside or outside it
override VEC: bool = true;
// output columns per invocation: 4·TXQ, TXQ 1 or 2
override TXQ: u32 = 2u;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> wpk: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

const LANE = vec4u(0u, 1u, 2u, 3u);
const WMAX = 32u;

// out[n, co0..co0+3, oy, ox0..ox0+4·TXQ−1] = Σ_{ci, ky, kx} w · inp[n, g·cinG + ci, oy·S − PAD + ky·DIL, ox·S − PAD + kx·DIL]
// (overwrites). Bind inp4 and inp to the same buffer.
@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3u) {
  let TX = 4u * TXQ;
  let tiles = (p.Wout + TX - 1u) / TX;
  if (gid.x >= p.N * p.Hout * tiles) { return; }
  let ox0 = (gid.x % tiles) * TX;
  let oy = (gid.x / tiles) % p.Hout;
  let n = gid.x / (tiles * p.Hout);
  let coQ = (p.coutG + 3u) / 4u;
  let g = gid.y / coQ;
  let cq = gid.y % coQ;
  // window: input columns ox0·STRIDE − PAD + j, j < WL; held in buf at offset OFF (vec4 loads start QL
  // vec4s left of ox0·STRIDE, a multiple of 4)
  let QL = (PAD + 3u) / 4u;
  let OFF = 4u * QL - PAD;
  let WL = (TX - 1u) * STRIDE + (K - 1u) * DIL + 1u;
  let NQ = (OFF + WL + 3u) / 4u;
  let W4 = p.W / 4u;
  // acc[2·c + h]: output channel co0 + c, columns ox0 + 4h .. ox0 + 4h + 3
  var acc: array<vec4f, 8>;
  for (var ci = 0u; ci < p.cinG; ci++) {
    let plane = (n * p.Cin + g * p.cinG + ci) * p.H;
    for (var ky = 0u; ky < K; ky++) {
      let iy = i32(oy * STRIDE + ky * DIL) - i32(PAD);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      var buf: array<f32, WMAX>;
      if (VEC) {
        let q0 = i32(ox0 * STRIDE / 4u) - i32(QL);
        let rowq = (plane + u32(iy)) * W4;
        for (var j = 0u; j < NQ; j++) {
          let qi = q0 + i32(j);
          let v = select(vec4f(0.0), inp4[rowq + u32(clamp(qi, 0, i32(W4) - 1))], qi >= 0 && qi < i32(W4));
          buf[4u * j] = v.x;
          buf[4u * j + 1u] = v.y;
          buf[4u * j + 2u] = v.z;
          buf[4u * j + 3u] = v.w;
        }
      } else {
        let row = (plane + u32(iy)) * p.W;
        for (var j = 0u; j < WL; j++) {
          let ix = i32(ox0 * STRIDE + j) - i32(PAD);
          buf[OFF + j] = select(0.0, inp[row + u32(clamp(ix, 0, i32(p.W) - 1))], ix >= 0 && ix < i32(p.W));
        }
      }
      let wrow = ((g * p.cinG + ci) * K + ky) * K * coQ + cq;
      for (var kx = 0u; kx < K; kx++) {
        let w = wpk[wrow + kx * coQ];
        for (var h = 0u; h < TXQ; h++) {
          let o = OFF + kx * DIL + 4u * h * STRIDE;
          let v = vec4f(buf[o], buf[o + STRIDE], buf[o + 2u * STRIDE], buf[o + 3u * STRIDE]);
          acc[h] += w.x * v;
          acc[2u + h] += w.y * v;
          acc[4u + h] += w.z * v;
          acc[6u + h] += w.w * v;
        }
      }
    }
  }
  // constant-bound loops (unrolled): acc is only ever indexed by constants, so it stays in registers
  let nc = min(4u, p.coutG - cq * 4u);
  let nx = min(TX, p.Wout - ox0);
  for (var c = 0u; c < 4u; c++) {
    let o = ((n * p.Cout + g * p.coutG + cq * 4u + c) * p.Hout + oy) * p.Wout + ox0;
    for (var h = 0u; h < TXQ; h++) {
      for (var l = 0u; l < 4u; l++) {
        if (c < nc && 4u * h + l < nx) { out[o + 4u * h + l] = acc[2u * c + h][l]; }
      }
    }
  }
}

// Weight packing for `forward`: wpkOut[g, i, ky, kx, o] (o padded to a multiple of 4 with zeros) for a
// conv with coutG outputs and cinG inputs per group. flip = 0: from weight [groups·coutG, cinG, K, K];
// flip = 1 (stride-1 backward w.r.t. the input): from weight [groups·cinG, coutG, K, K], transposed
// per group and rotated 180°. Overwrites.
struct Q { coutG: u32, cinG: u32, groups: u32, k: u32, flip: u32 }
@group(0) @binding(5) var<uniform> q: Q;
@group(0) @binding(6) var<storage, read> weight: array<f32>;
@group(0) @binding(7) var<storage, read_write> wpkOut: array<f32>;

@compute @workgroup_size(WG)
fn pack_weight(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let coPad = (q.coutG + 3u) / 4u * 4u;
  let kk = q.k * q.k;
  if (i >= q.groups * q.cinG * kk * coPad) { return; }
  let o = i % coPad;
  let t = (i / coPad) % kk;
  let ci = (i / (coPad * kk)) % q.cinG;
  let g = i / (coPad * kk * q.cinG);
  var v = 0.0;
  if (o < q.coutG) {
    if (q.flip == 0u) {
      v = weight[((g * q.coutG + o) * q.cinG + ci) * kk + t];
    } else {
      v = weight[((g * q.cinG + ci) * q.coutG + o) * kk + (kk - 1u - t)];
    }
  }
  wpkOut[i] = v;
}
