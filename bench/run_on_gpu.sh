#!/usr/bin/env bash
# Issue 16's and 19's side-by-side figures on a machine with an NVIDIA GPU and no network (the `device` tool's
# machine): PyTorch CUDA eager, PyTorch CPU (one thread), torch_js on webgpu (Dawn/Vulkan through Node, Pyodide), the
# GPU time per kernel (bench/webgpu_host_profile.py --gpu-only), the bridge's matmul beside tfjs-webgpu and jax-js,
# and the CPU peers at 1-16 threads (bench/cpu_peers.mjs: torch_js in Pyodide, ONNX Runtime Web, PyTorch), all in one run.
# Results go to $OUT (default bench/results/gpu).
#
# Carried: the device kit (shared/tools/webgpu-devicekit after its prepare.sh) as .gpukit, or as .gpukit-lite
# without its tfjs/jax-js packages when the 64 MiB carry limit bites (`cp -a .gpukit .gpukit-lite; rm -rf
# .gpukit-lite/node_modules/{@tensorflow,@jax-js,seedrandom,long}`; SKIP_PEERS=1 then); .devcarry/pyodide.tar.xz
# (`tar -C node_modules -cJf .devcarry/pyodide.tar.xz pyodide`) and .devcarry/cpu_peers.tar.xz
# (bench/pack_cpu_peers.sh); pytorchjs_py/torch_js/_lib; dist/torch_js-*.whl (cpu_peers). On 2026-12-06 the whole
# run took 163 s on an H200 (one 10-minute device call is enough):
#   SKIP_PEERS=1 OUT=$OUT bash bench/run_on_gpu.sh        (carry .gpukit-lite .devcarry pytorchjs_py/torch_js/_lib
#                                                          dist/torch_js-0.1.0-py3-none-any.whl)
# torch_js comes from the checkout (TORCH_JS_INSTALL=source: carry pytorchjs_py/torch_js/_lib) unless
# TORCH_JS_INSTALL=unpack is set (the carried dist wheel, as cpu_peers.mjs uses: one carry fewer).
# Beside them: the dispatch/submit/readback floor (bench/webgpu_dispatch_cost.mjs) and the SM clock every 100 ms
# ($OUT/clocks.csv, the sections' start times in $OUT/marks.txt); HOST_PROFILE=gpt2,decode adds cProfile's view of
# those steps' host side. SKIP_CPU=1 leaves out PyTorch CPU, SKIP_INMODEL=1 the GPT-2 replay study, SKIP_PROFILE=1 the kernel profile, SKIP_CPU_PEERS=1 the CPU peers; extra
# arguments go to gpu_suite.py (e.g. --only mlp_step_ms).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT" node_modules
[ -d node_modules/pyodide ] || tar -C node_modules -xJf .devcarry/pyodide.tar.xz
[ -e .gpukit ] || ln -s .gpukit-lite .gpukit
[ -e node_modules/webgpu ] || ln -s ../.gpukit/node_modules/webgpu node_modules/webgpu
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
# the SM clock and utilization every 100 ms through the whole run, the sections' start times beside them (a GPU paced by
# the host may stay at low clocks: its kernels then run slower than the same kernels back to back)
nvidia-smi --query-gpu=timestamp,clocks.sm,utilization.gpu --format=csv,noheader -lms 100 > "$OUT/clocks.csv" &
SMI=$!
trap 'kill $SMI 2>/dev/null' EXIT
mark() { echo "== $1"; echo "$(date +%T.%N) $1" >> "$OUT/marks.txt"; }

mark "dispatch, submit and readback floor (bench/webgpu_dispatch_cost.mjs)"
RESULT_JSON="$OUT/dispatch_cost.json" timeout 120 bash bench/webgpu_on_device.sh bench/webgpu_dispatch_cost.mjs

mark "PyTorch CUDA eager"
python3 bench/gpu_suite.py --device cuda --json "$OUT/suite_cuda.json" "$@"
mark "torch_js webgpu (Pyodide in Node, Dawn)"
# (Pyodide sees the checkout's folders, not $OUT: the JSON is written inside the checkout, then copied)
TORCH_JS_INSTALL=${TORCH_JS_INSTALL:-source} TORCH_JS_WEBGPU=1 timeout "${WEBGPU_TIMEOUT:-420}" bash bench/webgpu_on_device.sh js_bridge/pyrun.mjs \
    bench/gpu_suite.py --device webgpu --json bench/results/suite_webgpu.json "$@"
cp bench/results/suite_webgpu.json "$OUT/" 2>/dev/null
if [ -z "${SKIP_INMODEL:-}" ]; then   # the same GPT-2 replayed back to back: what its kernels take at the clocks they reach
  mark "GPT-2 forward replayed back to back and paced by readbacks (bench/webgpu_gpt_inmodel.py)"
  TORCH_JS_INSTALL=${TORCH_JS_INSTALL:-source} TORCH_JS_WEBGPU=1 timeout 200 bash bench/webgpu_on_device.sh js_bridge/pyrun.mjs \
      bench/webgpu_gpt_inmodel.py --json bench/results/gpt_inmodel.json
  cp bench/results/gpt_inmodel.json "$OUT/" 2>/dev/null
fi
if [ -z "${SKIP_CPU:-}" ]; then
  mark "PyTorch CPU, one thread (no decoding or GPT-2 training: minutes on one core)"
  python3 bench/gpu_suite.py --device cpu --threads 1 --json "$OUT/suite_cpu1.json" \
      --only tiny_op_us,tiny_op_item_us,matmul_256,matmul_1024,mlp_step_ms,cnn_step_ms,gpt2_forward_ms
fi
if [ -z "${SKIP_PEERS:-}" ]; then   # (bench/webgpu_matmul_h100.mjs)
  mark "bridge matmul beside tfjs-webgpu and jax-js"
  RESULT_JSON="$OUT/matmul_peers.json" VARIANTS=t64d ROUNDS=2 MINMS=300 timeout 240 \
      bash bench/webgpu_on_device.sh bench/webgpu_matmul_h100.mjs
fi
if [ -z "${SKIP_PROFILE:-}" ]; then
  mark "GPU time per kernel (torch_js webgpu)"
  # (Dawn quantizes timestamps to 65.5 us unless told not to: per-kernel times would be 0 or 65.5 us)
  DAWN_OPTS=disable-dawn-features=timestamp_quantization \
  TORCH_JS_INSTALL=${TORCH_JS_INSTALL:-source} TORCH_JS_WEBGPU=1 timeout 150 bash bench/webgpu_on_device.sh js_bridge/pyrun.mjs \
      bench/webgpu_host_profile.py --gpu-only --only gpt2,decode,mlp --steps 3 --json bench/results/gpu_profile.json
  cp bench/results/gpu_profile.json "$OUT/" 2>/dev/null
fi
if [ -n "${HOST_PROFILE:-}" ]; then   # HOST_PROFILE=gpt2,decode: cProfile of the host side of those steps
  mark "host time per Python function (torch_js webgpu)"
  TORCH_JS_INSTALL=${TORCH_JS_INSTALL:-source} TORCH_JS_WEBGPU=1 timeout 150 bash bench/webgpu_on_device.sh js_bridge/pyrun.mjs \
      bench/webgpu_host_profile.py --only "$HOST_PROFILE" --steps 5 --json bench/results/host_profile.json
  cp bench/results/host_profile.json "$OUT/" 2>/dev/null
fi
if [ -z "${SKIP_CPU_PEERS:-}" ]; then
  mark "CPU peers at 1-16 threads (torch_js Pyodide, ONNX Runtime Web, PyTorch)"
  timeout 240 bash bench/webgpu_on_device.sh bench/cpu_peers.mjs --rounds 3 --out "$OUT/cpu_peers.json"
fi
