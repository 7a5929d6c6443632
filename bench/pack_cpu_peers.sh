#!/usr/bin/env bash
# .devcarry/cpu_peers.tar.xz: what bench/cpu_peers.mjs needs on a machine without node_modules/onnxruntime-web or
# build/cpu_peers (the device: no network, only small folders travel). bench/cpu_peers.mjs unpacks it into
# build/cpu_peers by itself. It holds
#   minilm.onnx, matmul.onnx, manifest.json      the graphs (bench/cpu_peers_export.py; the encoder's weights are
#                                                 not in it: torch_js rebuilds them on the machine)
#   node_modules/onnxruntime-web/{package.json, dist/ort.node.min.mjs, dist/ort-wasm-simd-threaded.{mjs,wasm}}
#   node_modules/onnxruntime-common/{package.json, dist/esm/*.js}   (ort.node.min.mjs imports it)
# About 4 MB. Usage, from anywhere: bash bench/pack_cpu_peers.sh
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
MODELS=build/cpu_peers
[ -f "$MODELS/manifest.json" ] || .venv/bin/python bench/cpu_peers_export.py --out "$MODELS"
for f in node_modules/onnxruntime-web/dist/ort.node.min.mjs node_modules/onnxruntime-common/dist/esm/index.js; do
  [ -f "$f" ] || { echo "pack_cpu_peers: $f missing: run npm install" >&2; exit 1; }
done
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp "$MODELS"/minilm.onnx "$MODELS"/matmul.onnx "$MODELS"/manifest.json "$STAGE"/
WEB=node_modules/onnxruntime-web COMMON=node_modules/onnxruntime-common
mkdir -p "$STAGE/$WEB/dist" "$STAGE/$COMMON/dist/esm"
cp "$WEB/package.json" "$STAGE/$WEB/"
cp "$WEB"/dist/ort.node.min.mjs "$WEB"/dist/ort-wasm-simd-threaded.mjs "$WEB"/dist/ort-wasm-simd-threaded.wasm \
  "$STAGE/$WEB/dist/"
cp "$COMMON/package.json" "$STAGE/$COMMON/"
cp "$COMMON"/dist/esm/*.js "$STAGE/$COMMON/dist/esm/"
mkdir -p .devcarry
tar -cJf .devcarry/cpu_peers.tar.xz -C "$STAGE" manifest.json matmul.onnx minilm.onnx node_modules
echo "pack_cpu_peers: .devcarry/cpu_peers.tar.xz ($(du -h .devcarry/cpu_peers.tar.xz | cut -f1))"
