// The uniform every conv2d shader takes (included with //!include; src/ops/conv2d.ts packs it by member
// name): input [N, Cin, H, W], output [N, Cout, Hout, Wout], square k / stride / pad / dilation,
// groups with cinG = Cin/groups and coutG = Cout/groups inputs and outputs per group, and the chunking
// of the weight-gradient reductions (chunks × rowsPerChunk output rows).
struct P {
  N: u32, Cin: u32, H: u32, W: u32,
  Cout: u32, Hout: u32, Wout: u32, k: u32,
  stride: u32, pad: u32, dil: u32, groups: u32,
  cinG: u32, coutG: u32, chunks: u32, rowsPerChunk: u32,
}
@group(0) @binding(0) var<uniform> p: P;
