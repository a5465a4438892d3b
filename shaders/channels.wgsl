// Channel and spatial plumbing of NCHW tensors: channel copies (concat, slices), a spatial shift with
// zero fill (DARTS FactorizedReduce's x[:, :, 1:, 1:]), and sums of same-shape tensors (cell nodes).
// 1-D grid over the elements an entry writes: i = gid.x + gid.y * nwg.x * WG.
// The *4 entries are the same on vec4 elements (2.5x faster on lavapipe); the ops use them when every
// channel plane (copies) or the whole tensor (sums) is a multiple of 4 floats, counting hw and n in vec4s.

override WG: u32 = 256;

fn idx(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

struct Chan {
  n: u32,                   // elements written
  hw: u32,                  // H·W
  count: u32,               // channels moved
  c_in: u32, in_off: u32,   // channels of inp, first channel read
  c_out: u32, out_off: u32, // channels of out, first channel written
}
@group(0) @binding(0) var<uniform> pc: Chan;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> out4: array<vec4f>;

// Where element i of the copied block goes and comes from: (out index, inp index).
fn copy_at(i: u32) -> vec2u {
  let run = pc.count * pc.hw;                   // one batch item's block is contiguous
  let b = i / run;
  let r = i - b * run;
  return vec2u((b * pc.c_out + pc.out_off) * pc.hw + r, (b * pc.c_in + pc.in_off) * pc.hw + r);
}

// out[b, out_off + k] = inp[b, in_off + k] for k < count (whole planes). Overwrites those channels of
// out only: concat calls it once per input (in_off 0); its backward and sliceChannels read a block
// (out_off 0). n = N·count·hw.
@compute @workgroup_size(WG)
fn copy_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pc.n) { let a = copy_at(i); out[a.x] = inp[a.y]; }
}

@compute @workgroup_size(WG)
fn copy_channels4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pc.n) { let a = copy_at(i); out4[a.x] = inp4[a.y]; }
}

// Element i of out as (inside the embedded channels, inp index): channels out_off .. out_off+count-1.
fn embed_at(i: u32) -> vec2u {
  let plane = pc.c_out * pc.hw;
  let b = i / plane;
  let r = i - b * plane;
  let lo = pc.out_off * pc.hw;
  let inside = r >= lo && r < lo + pc.count * pc.hw;
  return vec2u(select(0u, 1u, inside), select(0u, b * pc.count * pc.hw + r - lo, inside));
}

// out[b, k] = inp[b, k − out_off] for out_off <= k < out_off + count, 0 elsewhere (in_off unused):
// the backward of sliceChannels. Overwrites all of out (n = N·c_out·hw).
@compute @workgroup_size(WG)
fn embed_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pc.n) { let a = embed_at(i); out[i] = select(0.0, inp[a.y], a.x == 1u); }
}

@compute @workgroup_size(WG)
fn embed_channels4(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pc.n) { let a = embed_at(i); out4[i] = select(vec4f(0.0), inp4[a.y], a.x == 1u); }
}

struct Shift { n: u32, h: u32, w: u32, dy: i32, dx: i32 }
@group(0) @binding(5) var<uniform> ps: Shift;

// out[plane, y, x] = inp[plane, y + dy, x + dx] where that is inside the plane, else 0. Overwrites.
// shiftCrop forward: (dy, dx) >= 0; its backward: (−dy, −dx).
@compute @workgroup_size(WG)
fn shift(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i >= ps.n) { return; }
  let x = i32(i % ps.w) + ps.dx;
  let y = i32((i / ps.w) % ps.h) + ps.dy;
  var v = 0.0;
  if (x >= 0 && x < i32(ps.w) && y >= 0 && y < i32(ps.h)) {
    v = inp[i + u32(ps.dy * i32(ps.w) + ps.dx)]; // same plane: i + dy·w + dx (wraps back for negatives)
  }
  out[i] = v;
}

// Sums of up to 4 same-shape tensors (vec4 elements; n counts vec4s): inputs beyond `count` are not
// read (the ops bind inp0 there). add_n OVERWRITES out, add_n_acc ACCUMULATES (out +=) for > 4 inputs.
struct Sum { n: u32, count: u32 }
@group(0) @binding(6) var<uniform> pa: Sum;
@group(0) @binding(7) var<storage, read> inp0: array<vec4f>;
@group(0) @binding(8) var<storage, read> inp1: array<vec4f>;
@group(0) @binding(9) var<storage, read> inp2: array<vec4f>;
@group(0) @binding(10) var<storage, read> inp3: array<vec4f>;

fn sum_at(i: u32) -> vec4f {
  var s = inp0[i];
  if (pa.count > 1u) { s += inp1[i]; }
  if (pa.count > 2u) { s += inp2[i]; }
  if (pa.count > 3u) { s += inp3[i]; }
  return s;
}

@compute @workgroup_size(WG)
fn add_n(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pa.n) { out4[i] = sum_at(i); }
}

@compute @workgroup_size(WG)
fn add_n_acc(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = idx(gid, nwg);
  if (i < pa.n) { out4[i] += sum_at(i); }
}
