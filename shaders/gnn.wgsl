// Graph kernels of the GNN latency predictor, forward next to backward.
// B graphs of n nodes with f features each: node features inp/out [B, n, f]; adjacency adj [B, n, n]
// (row = receiving node), or one adjacency [n, n] shared by the batch (adj_batched = 0); readout [B, f].
// The adjacency plays the weight's role in aggregate, so its gradient is dadj.
// 1-D grid over the outputs: t = gid.x + gid.y * nwg.x * WG, one output element per invocation, no
// barriers (n and f are small: the loops are short). Every entry point OVERWRITES its output.

override WG: u32 = 64;

struct P { batch: u32, nodes: u32, feats: u32, adj_batched: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> adj: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> dout: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(6) var<storage, read_write> dadj: array<f32>;

fn flat(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * WG; }

// offset of graph b's adjacency (0 when one adjacency is shared by the batch)
fn adj_base(b: u32) -> u32 { return select(0u, b * p.nodes * p.nodes, p.adj_batched != 0u); }

// out[b,i,c] = Σ_j adj[b,i,j] · inp[b,j,c]  (overwrites)
@compute @workgroup_size(WG)
fn aggregate_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat(gid, nwg);
  let n = p.nodes;
  let f = p.feats;
  if (t >= p.batch * n * f) { return; }
  let c = t % f;
  let i = (t / f) % n;
  let b = t / (f * n);
  let a0 = adj_base(b) + i * n;
  let h0 = b * n * f + c;
  var acc = 0.0;
  for (var j = 0u; j < n; j++) { acc += adj[a0 + j] * inp[h0 + j * f]; }
  out[t] = acc;
}

// dinp[b,j,c] = Σ_i adj[b,i,j] · dout[b,i,c]  (adjᵀ·dout; overwrites)
@compute @workgroup_size(WG)
fn aggregate_backward_input(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat(gid, nwg);
  let n = p.nodes;
  let f = p.feats;
  if (t >= p.batch * n * f) { return; }
  let c = t % f;
  let j = (t / f) % n;
  let b = t / (f * n);
  let a0 = adj_base(b) + j;
  let d0 = b * n * f + c;
  var acc = 0.0;
  for (var i = 0u; i < n; i++) { acc += adj[a0 + i * n] * dout[d0 + i * f]; }
  dinp[t] = acc;
}

// dadj[a,i,j] = Σ_b Σ_c dout[b,i,c] · inp[b,j,c]  (dout·inpᵀ; overwrites). Per-graph adjacency: b = a
// only; shared adjacency (adj_batched = 0, a = 0): the sum runs over the whole batch.
@compute @workgroup_size(WG)
fn aggregate_backward_adj(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat(gid, nwg);
  let n = p.nodes;
  let f = p.feats;
  let nadj = select(1u, p.batch, p.adj_batched != 0u);
  if (t >= nadj * n * n) { return; }
  let j = t % n;
  let i = (t / n) % n;
  let a = t / (n * n);
  let b_end = select(p.batch, a + 1u, p.adj_batched != 0u);
  var acc = 0.0;
  for (var b = select(0u, a, p.adj_batched != 0u); b < b_end; b++) {
    let d0 = (b * n + i) * f;
    let h0 = (b * n + j) * f;
    for (var c = 0u; c < f; c++) { acc += dout[d0 + c] * inp[h0 + c]; }
  }
  dadj[t] = acc;
}

// out[b,c] = scale · Σ_j inp[b,j,c]  (scale = 1/n: mean over nodes; 1: sum; overwrites)
@compute @workgroup_size(WG)
fn readout_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat(gid, nwg);
  let n = p.nodes;
  let f = p.feats;
  if (t >= p.batch * f) { return; }
  let c = t % f;
  let h0 = (t / f) * n * f + c;
  var acc = 0.0;
  for (var j = 0u; j < n; j++) { acc += inp[h0 + j * f]; }
  out[t] = p.scale * acc;
}

// dinp[b,j,c] = scale · dout[b,c]  (overwrites)
@compute @workgroup_size(WG)
fn readout_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = flat(gid, nwg);
  let n = p.nodes;
  let f = p.feats;
  if (t >= p.batch * n * f) { return; }
  dinp[t] = p.scale * dout[(t / (f * n)) * f + t % f];
}
