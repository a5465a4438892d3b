// Batch normalisation over NCHW, forward next to backward. Statistics are per channel c over its
// count = N·H·W elements. Every entry runs ONE WORKGROUP PER CHANNEL (workgroup_id.x = c): its RWG lanes
// stride over the channel's elements, and the reductions end in a tree in workgroup memory
// (log2(RWG) + 1 barriers). The ops pass step_n/step_j so lanes step through (n, j) without dividing.
// x̂ = (inp − mean) · inverseSqrt(variance + eps); y = x̂ · weight + bias (affine) or y = x̂.
// Every entry OVERWRITES its outputs; forward_train_running updates running stats in place.

override RWG: u32 = 256; // power of two

struct BN {
  c: u32, hw: u32,                // channels, H·W
  count: u32,                     // N·H·W elements per channel
  step_n: u32, step_j: u32,       // RWG = step_n·hw + step_j
  eps: f32, momentum: f32,
  affine: u32,                    // 0: weight/bias are not read (the ops bind any read-only buffer there)
  training: u32,                  // backward: 1 = through the batch statistics, 0 = fixed (running) statistics
}
@group(0) @binding(0) var<uniform> p: BN;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read> mean: array<f32>;      // statistics used to normalise
@group(0) @binding(6) var<storage, read> variance: array<f32>;  // (biased batch variance, or running var)
@group(0) @binding(7) var<storage, read_write> out: array<f32>;
@group(0) @binding(8) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(9) var<storage, read_write> var_out: array<f32>;
@group(0) @binding(10) var<storage, read_write> running_mean: array<f32>;
@group(0) @binding(11) var<storage, read_write> running_var: array<f32>;
@group(0) @binding(12) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(13) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(14) var<storage, read_write> dbias: array<f32>;

var<workgroup> part: array<vec2f, RWG>;

// A lane's walk over channel c: element k of the channel is (n, j) = (k / hw, k % hw).
struct Cursor { k: u32, n: u32, j: u32 }
fn start(lane: u32) -> Cursor { return Cursor(lane, lane / p.hw, lane % p.hw); }
fn advance(q: ptr<function, Cursor>) {
  (*q).k += RWG;
  (*q).n += p.step_n;
  (*q).j += p.step_j;
  if ((*q).j >= p.hw) { (*q).j -= p.hw; (*q).n += 1u; }
}
fn at(q: Cursor, c: u32) -> u32 { return ((q.n * p.c) + c) * p.hw + q.j; }

// Sum of v over the workgroup's lanes, returned to every lane.
fn wg_sum(v: vec2f, lane: u32) -> vec2f {
  part[lane] = v;
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s >>= 1u) {
    if (lane < s) { part[lane] += part[lane + s]; }
    workgroupBarrier();
  }
  let total = part[0];
  workgroupBarrier(); // part may be reused by the caller's next wg_sum
  return total;
}

// (mean, biased variance) of channel c. Sums of x − x₀ (x₀: the channel's first element) keep
// E[d²] − E[d]² free of the cancellation that raw sums of squares suffer when |mean| ≫ std.
fn moments(c: u32, lane: u32) -> vec2f {
  let shift = inp[c * p.hw];
  var acc = vec2f(0.0);
  for (var q = start(lane); q.k < p.count; advance(&q)) {
    let d = inp[at(q, c)] - shift;
    acc += vec2f(d, d * d);
  }
  let m = wg_sum(acc, lane) / f32(p.count);
  return vec2f(shift + m.x, max(m.y - m.x * m.x, 0.0));
}

// out = x̂·weight + bias for channel c from the given mean and biased variance
fn normalize(c: u32, lane: u32, mu: f32, v: f32) {
  var scale = inverseSqrt(v + p.eps);
  var shift = -mu * scale;
  if (p.affine == 1u) {
    scale *= weight[c];
    shift = shift * weight[c] + bias[c];
  }
  for (var q = start(lane); q.k < p.count; advance(&q)) {
    let i = at(q, c);
    out[i] = inp[i] * scale + shift;
  }
}

// training: batch statistics → mean_out, var_out (biased); out normalised with them
@compute @workgroup_size(RWG)
fn forward_train(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let m = moments(wid.x, lid.x);
  if (lid.x == 0u) { mean_out[wid.x] = m.x; var_out[wid.x] = m.y; }
  normalize(wid.x, lid.x, m.x, m.y);
}

// forward_train, and running stats updated in place (PyTorch): r = (1 − momentum)·r + momentum·batch,
// with the UNBIASED batch variance (count / (count − 1) · biased) for running_var
@compute @workgroup_size(RWG)
fn forward_train_running(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x;
  let m = moments(c, lid.x);
  if (lid.x == 0u) {
    mean_out[c] = m.x;
    var_out[c] = m.y;
    let unbiased = m.y * f32(p.count) / f32(p.count - 1u);
    running_mean[c] = (1.0 - p.momentum) * running_mean[c] + p.momentum * m.x;
    running_var[c] = (1.0 - p.momentum) * running_var[c] + p.momentum * unbiased;
  }
  normalize(c, lid.x, m.x, m.y);
}

// inference: out normalised with the given (running) mean and variance
@compute @workgroup_size(RWG)
fn forward_eval(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  normalize(wid.x, lid.x, mean[wid.x], variance[wid.x]);
}

// dbias = Σ dout, dweight = Σ dout·x̂ (per channel; written even without affine: the training dinp
// needs both). dinp = k·(dout − Σdout/count − x̂·Σdout·x̂/count) in training, k·dout otherwise,
// with k = weight·inverseSqrt(variance + eps).
@compute @workgroup_size(RWG)
fn backward(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let c = wid.x;
  let mu = mean[c];
  let istd = inverseSqrt(variance[c] + p.eps);
  var acc = vec2f(0.0);
  for (var q = start(lid.x); q.k < p.count; advance(&q)) {
    let i = at(q, c);
    acc += dout[i] * vec2f(1.0, (inp[i] - mu) * istd);
  }
  let s = wg_sum(acc, lid.x);
  if (lid.x == 0u) { dbias[c] = s.x; dweight[c] = s.y; }
  var k = istd;
  if (p.affine == 1u) { k *= weight[c]; }
  var mdout = 0.0;
  var mdx = 0.0;
  if (p.training == 1u) {
    mdout = s.x / f32(p.count);
    mdx = s.y / f32(p.count);
  }
  for (var q = start(lid.x); q.k < p.count; advance(&q)) {
    let i = at(q, c);
    dinp[i] = k * (dout[i] - mdout - (inp[i] - mu) * istd * mdx);
  }
}
