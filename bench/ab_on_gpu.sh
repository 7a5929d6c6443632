#!/usr/bin/env bash
# In-model A/B on the GPU machine: bench/gpu_suite.py's webgpu steps run alternately under two matmul tables
# (kernels/matmul_table.mjs files: a fit from webgpu_gpt_kernels.mjs against the committed one), each in its own
# process, with the SM clock and utilization sampled every 100 ms beside them (nvidia-smi), so a kernel choice made
# on kernels run alone is checked inside the model, and the GPU's clocks during a host-paced step are on record.
#   A=path/to/table_a.mjs B=path/to/table_b.mjs ROUNDS=2 OUT=$OUT bash bench/ab_on_gpu.sh [gpu_suite.py arguments]
# or under two environments instead (the committed table both times), e.g. flush plans kept or not:
#   A_ENV=TORCH_JS_WEBGPU_PLAN_CACHE=1 B_ENV=TORCH_JS_WEBGPU_PLAN_CACHE=0 OUT=$OUT bash bench/ab_on_gpu.sh --only ...
# (CUDA=1 runs PyTorch CUDA on the same workloads first, into $OUT/suite_cuda.json)
# (default arguments: --only gpt2_forward_ms,gpt2_forward_compiled_ms). Carry as for run_on_gpu.sh; the tables
# travel in the working tree or in .devcarry, or come from the same call (`WRITE_TABLE=$OUT/fit.mjs bash
# bench/webgpu_on_device.sh bench/webgpu_gpt_kernels.mjs` first). The committed table is put back at the end.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-bench/results/ab}"
TABLE=js_bridge/webgpu/kernels/matmul_table.mjs
mkdir -p "$OUT" node_modules bench/results
[ -d node_modules/pyodide ] || tar -C node_modules -xJf .devcarry/pyodide.tar.xz
[ -e .gpukit ] || ln -s .gpukit-lite .gpukit
[ -e node_modules/webgpu ] || ln -s ../.gpukit/node_modules/webgpu node_modules/webgpu
[ $# -gt 0 ] || set -- --only gpt2_forward_ms,gpt2_forward_compiled_ms
cp "$TABLE" "$OUT/.committed_table.mjs"
[ -z "${CUDA:-}" ] || python3 bench/gpu_suite.py --device cuda --json "$OUT/suite_cuda.json" "$@" 2>&1 | tail -12
nvidia-smi --query-gpu=timestamp,clocks.sm,utilization.gpu --format=csv,noheader -lms 100 > "$OUT/clocks.csv" &
SMI=$!
for r in $(seq 1 "${ROUNDS:-2}"); do
  for side in A B; do
    table="${!side:-$OUT/.committed_table.mjs}" envname="${side}_ENV"
    cp "$table" "$TABLE"
    echo "== $side round $r $(date +%T.%N) ${!envname:-}" | tee -a "$OUT/marks.txt"
    env ${!envname:-} TORCH_JS_INSTALL=source TORCH_JS_WEBGPU=1 timeout "${STEP_TIMEOUT:-90}" bash bench/webgpu_on_device.sh \
        js_bridge/pyrun.mjs bench/gpu_suite.py --device webgpu --json bench/results/ab.json "$@" 2>&1 | grep -v XDG_RUNTIME | tail -"${TAIL:-3}"
    cp bench/results/ab.json "$OUT/suite_${side}_$r.json" 2>/dev/null
  done
done
echo "== end $(date +%T.%N)" | tee -a "$OUT/marks.txt"
kill "$SMI"
cp "$OUT/.committed_table.mjs" "$TABLE"
