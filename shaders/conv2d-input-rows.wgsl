// Row gathers shared by the backward-input kernels of conv2d-tiled.wgsl and conv2d-depthwise.wgsl
// (included with //!include; they declare p and dout).
// dout[row + q / stride] for the 4 columns q where q >= 0, q % stride == 0 and q / stride < Wout, else 0.
// unit (stride 1) skips the integer divisions, which lavapipe does lane by lane. Entry points pass the
// override UNIT_STRIDE (they must name it themselves: reflection lists the overrides an entry uses directly).
override UNIT_STRIDE: bool = false;
fn gatherRow(row: u32, q: vec4i, unit: bool) -> vec4f {
  let wo = i32(p.Wout);
  var ok = (q >= vec4i(0)) & (q < vec4i(wo * i32(p.stride)));
  var o = clamp(q, vec4i(0), vec4i(wo - 1));
  if (!unit) {
    let s = i32(p.stride);
    let qc = max(q, vec4i(0));
    ok = ok & (qc % s == vec4i(0));
    o = min(qc / s, vec4i(wo - 1));
  }
  let oi = row + vec4u(o);
  return select(vec4f(0.0), vec4f(dout[oi.x], dout[oi.y], dout[oi.z], dout[oi.w]), ok);
}

// the output row that reads input row iy at tap ky, or -1
fn outRow(iy: u32, ky: u32, unit: bool) -> i32 {
  let q = i32(iy + p.pad) - i32(ky * p.dil);
  if (unit) { return select(-1, q, q >= 0 && q < i32(p.Hout)); }
  let s = i32(p.stride);
  return select(-1, q / s, q >= 0 && q % s == 0 && q / s < i32(p.Hout));
}
