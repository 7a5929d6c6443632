// Which matmul kernel runs for which shape, per adapter: data, so that a measurement changes the choice and no
// code does. bench/webgpu_matmul_shapes.mjs times every variant over shapes 1..4096 and, with WRITE_TABLE=1,
// rewrites the profile of the adapter it ran on here (fitted from its timings: see fitProfile there).
//
// Profiles are tried in order: the first whose `match` (a case-insensitive regular expression) finds the
// adapter's "vendor architecture device description" applies; the last matches every adapter.
//   skinny.k / skinny.n  [[maxM, variant], ...], maxM ascending: a product with M <= maxM (or N <= maxM with
//                        N < M: it runs transposed) takes that matvec variant (matvec.mjs); 'k' / 'n' by the
//                        contiguous dimension of its B. Beyond the last maxM: the tiles.
//   tiles                [[variant, minWorkgroups], ...]: the first tile variant (matmul.mjs GEMM_CONFIGS or
//                        SMALL_CONFIGS) whose grid has at least minWorkgroups workgroups (the last: 0).
//   splitK               optional {below, target, minSlice}: K cut into slices for grids too small to fill the GPU
//                        (matmul.mjs splitKPlan).
//   nt                   optional {tiles, splitK}: the same two for products with both operands read along k
//                        (x @ W.T with nn.Linear's weight), fitted by bench/webgpu_gpt_kernels.mjs on GPT-2's.
//   attention            optional {minWorkgroups}: attention with fewer workgroups of 64 query rows takes fewer
//                        rows per workgroup with split keys (attention.mjs attentionRows), fitted by the same bench.
// `measured` says where a profile's numbers come from; the unmeasured default is a guess that is correct on any
// adapter (every variant computes the same product) and keeps SwiftShader's small workgroup memory (16 KiB).
export const MATMUL_TABLE = [
  {
    match: 'swiftshader',
    measured: 'spot timings 2026-12-06 on a loaded 2-core host (M = 1..16 at 768 x 768, squares 32..256): rough',
    skinny: {
      k: [[1, 'vk16r1'], [4, 'vk16r4'], [8, 'vk16r8']],
      n: [[1, 'vn64r1'], [4, 'vn64r4'], [8, 'vn64r8'], [16, 'vn64r16']],
    },
    tiles: [['t128k8dsu', 2], ['t64d', 0]],
  },
  {
    match: 'nvidia',
    measured: 'bench/webgpu_matmul_shapes.mjs 2026-12-06 on nvidia nvidia-h100-80gb-hbm3 (skinny refit: one family, median)',
    skinny: {
      k: [[1, 'vk16r1'], [2, 'vk16r2'], [4, 'vk16r4'], [8, 'vk16r8'], [24, 'vk16r16']],
      n: [[1, 'vn16r1'], [2, 'vn16r2'], [4, 'vn16r4'], [8, 'vn16r8'], [24, 'vn16r16']],
    },
    tiles: [['t128k8ds', 1024], ['t64du', 4], ['s16', 0]],
    splitK: { below: 132, target: 264, minSlice: 128 },
    // nt and attention: bench/webgpu_gpt_kernels.mjs on an H100 (2026-12-07, GPT-2's five x @ W.T products alone,
    // L2-hot: 0.593 ms with the tiles above, 0.476 with these), then inside the model (bench/ab_on_gpu.sh, the two
    // tables alternating, two rounds): GPT-2's compiled forward 19.5 / 19.6 ms -> 15.9 / 15.9
    nt: { tiles: [['n128x64', 16], ['n64', 0]], splitK: { below: 66, target: 264, minSlice: 64 } },
    attention: { minWorkgroups: 192 },
  },
  {
    match: '',
    measured: 'guess (not yet measured): run bench/webgpu_matmul_shapes.mjs with WRITE_TABLE=1 on the adapter',
    skinny: {
      k: [[1, 'vk32r1'], [2, 'vk32r2'], [4, 'vk32r4'], [8, 'vk32r8']],
      n: [[1, 'vn64r1'], [2, 'vn64r2'], [4, 'vn64r4'], [8, 'vn64r8']],
    },
    tiles: [['t128k8dsu', 256], ['t64d', 32], ['s32', 0]],
  },
];
