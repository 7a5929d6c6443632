#!/usr/bin/env bash
# Run a Node script of this repository (a WebGPU bench) on the lent GPU machine, with the device kit in .gpukit
# (../shared/docs/webgpu-on-device.md: the Vulkan loader .debs, a Node binary, npm webgpu), as .gpukit/run.sh
# does for the kit's own bench. From the repository root, in a `device` run that carries .gpukit:
#   bash bench/webgpu_on_device.sh bench/webgpu_matmul_shapes.mjs
# Environment is passed through (RESULT_JSON=$OUT/..., WRITE_TABLE=...). Here, without a GPU, SWIFTSHADER=1
# runs the same thing on the kit's SwiftShader.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KIT="$REPO/.gpukit"
[ -d "$KIT" ] || { echo "no $KIT: copy the device kit there first (../shared/docs/webgpu-on-device.md)" >&2; exit 2; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1 '; then
  for f in "$KIT"/debs/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if [ "${SWIFTSHADER:-0}" = 1 ]; then ICD="$KIT/swiftshader/vk_swiftshader_icd.json"
else
  ICD=""
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json \
           /etc/vulkan/icd.d/nvidia_icd.json; do [ -f "$f" ] && { ICD="$f"; break; }; done
  [ -n "$ICD" ] || { echo "no NVIDIA Vulkan ICD found" >&2; exit 2; }
fi
export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
# (KIT_NODE=1: the kit's Node even where the machine has one, e.g. Node 24 put into the kit for its cheaper JSPI)
NODEBIN="$([ "${KIT_NODE:-0}" = 1 ] || command -v node || true)"
if [ -z "$NODEBIN" ]; then
  NODEBIN=/tmp/tjs-node
  [ -x "$NODEBIN" ] || { python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"))' \
    "$KIT/node/node.xz" "$NODEBIN"; chmod +x "$NODEBIN"; }
fi
echo "[webgpu_on_device] $("$NODEBIN" --version) ICD $ICD" >&2
cd "$REPO"
exec "$NODEBIN" "$@"
