#!/usr/bin/env bash
# Issue 16's side-by-side figures on a machine with an NVIDIA GPU and no network (the `device` tool's machine):
# PyTorch CUDA eager, PyTorch CPU (one thread), torch_js on webgpu (Dawn/Vulkan through Node, Pyodide), and the
# bridge's matmul beside tfjs-webgpu and jax-js, all in one run. Results go to $OUT (default bench/results/gpu).
#
# Carried: .gpukit (shared/tools/webgpu-devicekit after its prepare.sh; swiftshader/ can stay behind) and
# .devcarry/pyodide.tar.xz (`tar -C node_modules -cJf .devcarry/pyodide.tar.xz pyodide`: node_modules is too big
# to carry whole). Usage there: bash bench/run_on_gpu.sh [gpu_suite.py args, e.g. --only mlp_step_ms]
# A device call is limited to 10 minutes: split the suite over two calls, e.g.
#   SKIP_PEERS=1 bash bench/run_on_gpu.sh --only tiny_op_us,tiny_op_item_us,matmul_256,matmul_1024,matmul_4096,mlp_step_ms,mlp_step_graph_ms,mlp_step_compiled_ms,cnn_step_ms
#   SKIP_PEERS=1 SKIP_CPU=1 bash bench/run_on_gpu.sh --only gpt2_forward_ms,gpt2_forward_compiled_ms,gpt2_train_ms,decode_tok_s,decode_graph_tok_s
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT="${OUT:-bench/results/gpu}"
mkdir -p "$OUT" node_modules
[ -d node_modules/pyodide ] || tar -C node_modules -xJf .devcarry/pyodide.tar.xz
[ -e node_modules/webgpu ] || ln -s ../.gpukit/node_modules/webgpu node_modules/webgpu
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"

echo "== PyTorch CUDA eager"
python3 bench/gpu_suite.py --device cuda --json "$OUT/suite_cuda.json" "$@"
echo "== torch_js webgpu (Pyodide in Node, Dawn)"
# (Pyodide sees the checkout's folders, not $OUT: the JSON is written inside the checkout, then copied)
TORCH_JS_INSTALL=source TORCH_JS_WEBGPU=1 timeout "${WEBGPU_TIMEOUT:-420}" bash bench/webgpu_on_device.sh js_bridge/pyrun.mjs \
    bench/gpu_suite.py --device webgpu --json bench/results/suite_webgpu.json "$@"
cp bench/results/suite_webgpu.json "$OUT/" 2>/dev/null
if [ -z "${SKIP_CPU:-}" ]; then
  echo "== PyTorch CPU, one thread (no decoding or GPT-2 training: minutes on one core)"
  python3 bench/gpu_suite.py --device cpu --threads 1 --json "$OUT/suite_cpu1.json" \
      --only tiny_op_us,tiny_op_item_us,matmul_256,matmul_1024,mlp_step_ms,cnn_step_ms,gpt2_forward_ms
fi
if [ -z "${SKIP_PEERS:-}" ]; then   # (bench/webgpu_matmul_h100.mjs)
  echo "== bridge matmul beside tfjs-webgpu and jax-js"
  RESULT_JSON="$OUT/matmul_peers.json" VARIANTS=t64d ROUNDS=2 MINMS=300 timeout 240 \
      bash bench/webgpu_on_device.sh bench/webgpu_matmul_h100.mjs
fi
