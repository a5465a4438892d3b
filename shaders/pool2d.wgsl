// 2-D pooling over NCHW planes, forward next to backward. Every entry point OVERWRITES its output;
// there are no atomics: the backward entries gather (each input element sums the windows covering it).
//
// Window of output (oy, ox): input rows oy*SH - ph .. oy*SH - ph + KH - 1, columns likewise. Positions
// outside the input are padding: never the max; counted by the average only when include_pad = 1. The
// ops keep ph <= KH/2 (as PyTorch), so every window holds at least one real input element.
//
// Window and stride are override constants (a few size classes: DARTS/NB201 use 3×3, s1/s2), so the
// window loops unroll. Each invocation handles a run of R consecutive elements of one row (outputs
// forward, inputs backward): the index decode is paid once per run and neighbouring windows share the
// loads of an input (or output) row. 1-D grid over runs: i = gid.x + gid.y * nwg.x * WG.
// USES: entries name the constants their helpers read (`_ = KH + ...`): wgsl_reflect reports only the
// overrides an entry point uses directly, and the kernel loader accepts only those.

override WG: u32 = 64;
override KH: u32 = 3;
override KW: u32 = 3;
override SH: u32 = 1;
override SW: u32 = 1;
override R: u32 = 4;                 // run length, <= RMAX; the ops keep (R - 1)*SW + KW <= SPAN_MAX
const RMAX: u32 = 8u;
const SPAN_MAX: u32 = 32u;
const NONE: u32 = 0xffffffffu;

struct Pool {
  n: u32,                  // runs in this dispatch
  runs: u32,               // runs per row: ceil(row length / R)
  h: u32, w: u32,          // input plane
  oh: u32, ow: u32,        // output plane
  ph: u32, pw: u32,        // padding (top/left; bottom/right implied by the output size)
  include_pad: u32,        // avg: 1 divides by KH*KW, 0 by the number of real elements in the window
}
@group(0) @binding(0) var<uniform> p: Pool;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<storage, read> argmax: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> argmax_out: array<u32>;
@group(0) @binding(6) var<storage, read_write> dinp: array<f32>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// Run i: plane, row, first column, for planes of `rows` rows.
struct Run { plane: u32, y: u32, x0: u32 }
fn run_at(i: u32, rows: u32) -> Run {
  let t = i / p.runs;
  return Run(t / rows, t % rows, (i - t * p.runs) * R);
}

// Loads input row y (if inside) at columns xs .. xs + (R-1)*SW + KW - 1 into row; pad cells get 0.
fn load_row(plane: u32, y: i32, xs: i32, row: ptr<function, array<f32, SPAN_MAX>>) -> bool {
  if (y < 0 || y >= i32(p.h)) { return false; }
  let base = (plane * p.h + u32(y)) * p.w;
  for (var j = 0u; j < (R - 1u) * SW + KW; j++) {
    let x = xs + i32(j);
    let ok = x >= 0 && x < i32(p.w);
    (*row)[j] = select(0.0, inp[base + u32(select(0, x, ok))], ok);
  }
  return true;
}

// Real (unpadded) part of output column o's window: columns lo..hi-1 (rows likewise with the H values).
fn span(o: u32, s: u32, k: u32, pad: u32, n: u32) -> vec2u {
  let start = i32(o * s) - i32(pad);
  return vec2u(u32(max(start, 0)), u32(min(start + i32(k), i32(n))));
}

// Average divisor of the window with real rows rs and columns cs.
fn divisor(rs: vec2u, cs: vec2u) -> f32 {
  return select(f32((rs.y - rs.x) * (cs.y - cs.x)), f32(KH * KW), p.include_pad == 1u);
}

// Max of the run's windows (bv) and their positions y*w + x in the plane (ba; first max on ties,
// row-major, as PyTorch).
fn max_run(r: Run, bv: ptr<function, array<f32, RMAX>>, ba: ptr<function, array<u32, RMAX>>) {
  let xs = i32(r.x0 * SW) - i32(p.pw);
  let ys = i32(r.y * SH) - i32(p.ph);
  for (var k = 0u; k < R; k++) { (*ba)[k] = NONE; }
  var row: array<f32, SPAN_MAX>;
  for (var ky = 0u; ky < KH; ky++) {
    let y = ys + i32(ky);
    if (!load_row(r.plane, y, xs, &row)) { continue; }
    for (var k = 0u; k < R; k++) {
      for (var kx = 0u; kx < KW; kx++) {
        let x = xs + i32(k * SW + kx);
        let v = row[k * SW + kx];
        if (x >= 0 && x < i32(p.w) && ((*ba)[k] == NONE || v > (*bv)[k])) {
          (*bv)[k] = v;
          (*ba)[k] = u32(y) * p.w + u32(x);
        }
      }
    }
  }
}

// out = max over each window (inference: no arg-max kept). n = planes·oh·runs
@compute @workgroup_size(WG)
fn max_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  _ = KH + KW + SH + SW + R; // see USES
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), p.oh);
  var bv: array<f32, RMAX>;
  var ba: array<u32, RMAX>;
  max_run(r, &bv, &ba);
  let o = (r.plane * p.oh + r.y) * p.ow + r.x0;
  for (var k = 0u; k < R; k++) { if (r.x0 + k < p.ow) { out[o + k] = bv[k]; } }
}

// out = max over each window; argmax_out = its position y*w + x in the input plane (for max_backward)
@compute @workgroup_size(WG)
fn max_forward_argmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  _ = KH + KW + SH + SW + R; // see USES
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), p.oh);
  var bv: array<f32, RMAX>;
  var ba: array<u32, RMAX>;
  max_run(r, &bv, &ba);
  let o = (r.plane * p.oh + r.y) * p.ow + r.x0;
  for (var k = 0u; k < R; k++) {
    if (r.x0 + k < p.ow) {
      out[o + k] = bv[k];
      argmax_out[o + k] = ba[k];
    }
  }
}

// Output rows (or columns) whose windows cover input row y: lo..hi-1.
fn covering(y: u32, k: u32, s: u32, pad: u32, n_out: u32) -> vec2u {
  let first = i32(y + pad) - i32(k) + 1;          // lowest window start that still covers y
  let lo = select(0u, (u32(first) + s - 1u) / s, first > 0);
  return vec2u(lo, min((y + pad) / s + 1u, n_out));
}

// Output columns whose windows cover any of the run's input columns x0 .. x0 + R - 1 (at most
// (R + KW - 2) / SW + 1 of them).
fn covering_run(x0: u32) -> vec2u {
  return vec2u(covering(x0, KW, SW, p.pw, p.ow).x, covering(min(x0 + R, p.w) - 1u, KW, SW, p.pw, p.ow).y);
}

// dinp[y, x] = sum of dout over the windows whose arg-max is (y, x). n = planes·h·runs.
// A run reads each covering output (arg-max, dout) once; an arg-max names one input, so matching it
// against the run's R positions needs no coverage test.
@compute @workgroup_size(WG)
fn max_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  _ = KH + KW + SH + SW + R; // see USES
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), p.h);
  let rows = covering(r.y, KH, SH, p.ph, p.oh);
  let cols = covering_run(r.x0);
  let at0 = r.y * p.w + r.x0;
  var acc: array<f32, RMAX>;
  for (var oy = rows.x; oy < rows.y; oy++) {
    let base = (r.plane * p.oh + oy) * p.ow;
    for (var j = 0u; j < (R + KW - 2u) / SW + 1u; j++) {
      let ox = cols.x + j;
      if (ox >= cols.y) { break; }
      let a = argmax[base + ox];
      let d = dout[base + ox];
      for (var k = 0u; k < R; k++) { acc[k] += select(0.0, d, a == at0 + k); }
    }
  }
  let i = (r.plane * p.h + r.y) * p.w + r.x0;
  for (var k = 0u; k < R; k++) { if (r.x0 + k < p.w) { dinp[i + k] = acc[k]; } }
}

// out = mean over each window (divisor: see include_pad). n = planes·oh·runs
@compute @workgroup_size(WG)
fn avg_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  _ = KH + KW + SH + SW + R; // see USES
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), p.oh);
  let xs = i32(r.x0 * SW) - i32(p.pw);
  var acc: array<f32, RMAX>;
  var row: array<f32, SPAN_MAX>;
  for (var ky = 0u; ky < KH; ky++) {
    if (!load_row(r.plane, i32(r.y * SH + ky) - i32(p.ph), xs, &row)) { continue; }
    for (var k = 0u; k < R; k++) {
      for (var kx = 0u; kx < KW; kx++) { acc[k] += row[k * SW + kx]; }
    }
  }
  let rs = span(r.y, SH, KH, p.ph, p.h);
  let o = (r.plane * p.oh + r.y) * p.ow + r.x0;
  for (var k = 0u; k < R; k++) {
    if (r.x0 + k < p.ow) { out[o + k] = acc[k] / divisor(rs, span(r.x0 + k, SW, KW, p.pw, p.w)); }
  }
}

// dinp[y, x] = sum over the windows covering (y, x) of dout / that window's divisor. n = planes·h·runs
@compute @workgroup_size(WG)
fn avg_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  _ = KH + KW + SH + SW + R; // see USES
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), p.h);
  let rows = covering(r.y, KH, SH, p.ph, p.oh);
  let cols = covering_run(r.x0);
  var acc: array<f32, RMAX>;
  for (var oy = rows.x; oy < rows.y; oy++) {
    let rs = span(oy, SH, KH, p.ph, p.h);
    let base = (r.plane * p.oh + oy) * p.ow;
    for (var j = 0u; j < (R + KW - 2u) / SW + 1u; j++) {
      let ox = cols.x + j;
      if (ox >= cols.y) { break; }
      let cs = span(ox, SW, KW, p.pw, p.w);
      let g = dout[base + ox] / divisor(rs, cs);
      for (var k = 0u; k < R; k++) { acc[k] += select(0.0, g, r.x0 + k >= cs.x && r.x0 + k < cs.y); }
    }
  }
  let i = (r.plane * p.h + r.y) * p.w + r.x0;
  for (var k = 0u; k < R; k++) { if (r.x0 + k < p.w) { dinp[i + k] = acc[k]; } }
}

// Global average: out[plane] = mean of the h*w values of that plane (one invocation per plane; n = planes)
@compute @workgroup_size(WG)
fn global_avg_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.n) { return; }
  let hw = p.h * p.w;
  var acc = 0.0;
  for (var j = 0u; j < hw; j++) { acc += inp[i * hw + j]; }
  out[i] = acc / f32(hw);
}

// dinp[plane, j] = dout[plane] / (h*w); runs of R along the plane seen as one row (n = planes·runs)
@compute @workgroup_size(WG)
fn global_avg_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  if (flat(gid, nwg) >= p.n) { return; }
  let r = run_at(flat(gid, nwg), 1u);
  let hw = p.h * p.w;
  let g = dout[r.plane] / f32(hw);
  for (var k = 0u; k < R; k++) { if (r.x0 + k < hw) { dinp[r.plane * hw + r.x0 + k] = g; } }
}
