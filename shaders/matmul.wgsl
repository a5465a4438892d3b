// Matrix multiply out = op(a) · op(b), op = identity or transpose by flag, so backward passes need no
// transpose copies. op(a) is [M,K], op(b) is [K,N], out is [M,N] row-major. a is stored [M,K]
// (transA = 0) or [K,M] (transA = 1); b is stored [K,N] (transB = 0) or [N,K] (transB = 1).
// Batched over workgroup z: batch z reads a at z*strideA, b at z*strideB, writes out at z*strideC
// (a stride of 0 broadcasts one matrix, e.g. a shared weight). Every entry OVERWRITES out.
// Variants: naive (one output per invocation), tiled (4x4 outputs per invocation, scalar loads, any
// shape) here; tiled_vec4 (4x4, vec4 loads and stores) in matmul-vec4.wgsl.
// No workgroup memory and no barriers: lavapipe runs invocations as SIMD lanes and barriers are costly.

override WGX: u32 = 16;
override WGY: u32 = 4;

struct P { M: u32, N: u32, K: u32, transA: u32, transB: u32, strideA: u32, strideB: u32, strideC: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// element strides of a along m and k, of b along k and n
fn aStrides() -> vec2u { return select(vec2u(p.K, 1u), vec2u(1u, p.M), p.transA != 0u); }
fn bStrides() -> vec2u { return select(vec2u(p.N, 1u), vec2u(1u, p.K), p.transB != 0u); }

// out[m,n] = Σ_k op(a)[m,k] · op(b)[k,n], one output per invocation (overwrites)
@compute @workgroup_size(WGX, WGY)
fn naive(@builtin(global_invocation_id) gid: vec3u) {
  let n = gid.x;
  let m = gid.y;
  if (m >= p.M || n >= p.N) { return; }
  let sa = aStrides();
  let sb = bStrides();
  let abase = gid.z * p.strideA + m * sa.x;
  let bbase = gid.z * p.strideB + n * sb.y;
  var acc = 0.0;
  for (var k = 0u; k < p.K; k++) {
    acc += a[abase + k * sa.y] * b[bbase + k * sb.x];
  }
  out[gid.z * p.strideC + m * p.N + n] = acc;
}

// 4 rows x 4 columns per invocation, rank-1 updates with scalar loads; rows/columns past the edge are
// clamped for loading and not stored (overwrites)
@compute @workgroup_size(WGX, WGY)
fn tiled(@builtin(global_invocation_id) gid: vec3u) {
  let c0 = gid.x * 4u;
  let r0 = gid.y * 4u;
  if (r0 >= p.M || c0 >= p.N) { return; }
  let sa = aStrides();
  let sb = bStrides();
  let lane = vec4u(0u, 1u, 2u, 3u);
  let ar = gid.z * p.strideA + min(vec4u(r0) + lane, vec4u(p.M - 1u)) * sa.x;
  let bc = gid.z * p.strideB + min(vec4u(c0) + lane, vec4u(p.N - 1u)) * sb.y;
  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let ka = k * sa.y;
    let kb = k * sb.x;
    let bv = vec4f(b[bc.x + kb], b[bc.y + kb], b[bc.z + kb], b[bc.w + kb]);
    acc0 += a[ar.x + ka] * bv;
    acc1 += a[ar.y + ka] * bv;
    acc2 += a[ar.z + ka] * bv;
    acc3 += a[ar.w + ka] * bv;
  }
  let o = gid.z * p.strideC + r0 * p.N + c0;
  let nr = min(4u, p.M - r0);
  let nc = min(4u, p.N - c0);
  let accs = array<vec4f, 4>(acc0, acc1, acc2, acc3);
  for (var r = 0u; r < nr; r++) {
    for (var c = 0u; c < nc; c++) { out[o + r * p.N + c] = accs[r][c]; }
  }
}

// Bias epilogue and its backward, shared by linear ([N,out]: inner = 1) and conv2d (NCHW: inner = H·W).
// Element i belongs to channel (i / inner) % C.
struct B { n: u32, C: u32, inner: u32 }
@group(0) @binding(7) var<uniform> pb: B;
@group(0) @binding(8) var<storage, read> bias: array<f32>;
@group(0) @binding(9) var<storage, read_write> dst: array<f32>;
@group(0) @binding(10) var<storage, read> dout: array<f32>;
@group(0) @binding(11) var<storage, read_write> dbias: array<f32>;

// dst[i] += bias[channel(i)] (accumulates)
@compute @workgroup_size(256)
fn add_bias(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i < pb.n) { dst[i] += bias[(i / pb.inner) % pb.C]; }
}

// dbias[c] = Σ dout[i] over the elements of channel c; one invocation per channel (overwrites)
@compute @workgroup_size(64)
fn bias_backward(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x;
  if (c >= pb.C) { return; }
  let outer = pb.n / (pb.C * pb.inner);
  var acc = 0.0;
  for (var o = 0u; o < outer; o++) {
    let base = (o * pb.C + c) * pb.inner;
    for (var j = 0u; j < pb.inner; j++) { acc += dout[base + j]; }
  }
  dbias[c] = acc;
}
