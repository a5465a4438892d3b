// Depthwise 2-D convolution, stride 1: gradient w.r.t. the weight with row windows (the fast path; the
// general one is conv2d-depthwise.wgsl:backward_weight). Each invocation owns one channel c and one
// kernel row ky — all K taps kx — and sums over one chunk of output rows (n, oy): per 4 output columns
// it loads dout once and the input row window (4 + (K−1)·DIL columns) once, and applies all K taps.
// Writes partial[chunk, c, ky, kx]; conv2d-weight.wgsl:sum_chunks adds the chunks. Same parameters as
// conv2d.wgsl (groups = Cin = Cout). K, DIL, PAD, VEC (W % 4 == 0) and VEC_OUT (Wout % 4 == 0) are
// override constants, so the loops unroll and the window and accumulators stay in registers.

override WG: u32 = 64;
override K: u32 = 3;
override DIL: u32 = 1;
override PAD: u32 = 1;
override VEC: bool = true;
override VEC_OUT: bool = true;
const WMAX = 24u;

//!include conv2d-params.wgsl
@group(0) @binding(1) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(4) var<storage, read> dout: array<f32>;
@group(0) @binding(7) var<storage, read_write> partial: array<f32>;

const LANE = vec4u(0u, 1u, 2u, 3u);

// partial[chunk, c, ky, 0..K−1] = Σ over the chunk's rows of dout · inp (overwrites); bind inp4/inp and
// dout4/dout pairwise to the same buffers. x of the grid: (c, ky); y: chunk.
@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= p.Cout * K) { return; }
  let ky = gid.x % K;
  let c = gid.x / K;
  let QL = (PAD + 3u) / 4u;
  let OFF = 4u * QL - PAD;
  let WL = 4u + (K - 1u) * DIL;
  let NQ = (OFF + WL + 3u) / 4u;
  let W4 = p.W / 4u;
  let r0 = gid.y * p.rowsPerChunk;
  let r1 = min(r0 + p.rowsPerChunk, p.N * p.Hout);
  var acc: array<vec4f, 7>;
  for (var r = r0; r < r1; r++) {
    let n = r / p.Hout;
    let oy = r % p.Hout;
    let iy = i32(oy + ky * DIL) - i32(PAD);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    let plane = n * p.Cin + c;
    let orow = (plane * p.Hout + oy) * p.Wout;
    for (var ox0 = 0u; ox0 < p.Wout; ox0 += 4u) {
      var d: vec4f;
      if (VEC_OUT) {
        d = dout4[(orow + ox0) / 4u];
      } else {
        let oxs = vec4u(ox0) + LANE;
        let oi = orow + min(oxs, vec4u(p.Wout - 1u));
        d = select(vec4f(0.0), vec4f(dout[oi.x], dout[oi.y], dout[oi.z], dout[oi.w]), oxs < vec4u(p.Wout));
      }
      var buf: array<f32, WMAX>;
      if (VEC) {
        let q0 = i32(ox0 / 4u) - i32(QL);
        let rowq = (plane * p.H + u32(iy)) * W4;
        for (var j = 0u; j < NQ; j++) {
          let qi = q0 + i32(j);
          let v = select(vec4f(0.0), inp4[rowq + u32(clamp(qi, 0, i32(W4) - 1))], qi >= 0 && qi < i32(W4));
          buf[4u * j] = v.x;
          buf[4u * j + 1u] = v.y;
          buf[4u * j + 2u] = v.z;
          buf[4u * j + 3u] = v.w;
        }
      } else {
        let row = (plane * p.H + u32(iy)) * p.W;
        for (var j = 0u; j < WL; j++) {
          let ix = i32(ox0 + j) - i32(PAD);
          buf[OFF + j] = select(0.0, inp[row + u32(clamp(ix, 0, i32(p.W) - 1))], ix >= 0 && ix < i32(p.W));
        }
      }
      for (var kx = 0u; kx < K; kx++) {
        let o = OFF + kx * DIL;
        acc[kx] += d * vec4f(buf[o], buf[o + 1u], buf[o + 2u], buf[o + 3u]);
      }
    }
  }
  let base = ((gid.y * p.Cout + c) * K + ky) * K;
  for (var kx = 0u; kx < K; kx++) { partial[base + kx] = dot(acc[kx], vec4f(1.0)); }
}
