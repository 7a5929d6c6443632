#!/usr/bin/env bash
# The system packages torch_js's make targets need, checked (and installed where possible) before any build.
#
#   tools/system_deps.sh serve|site   python3.11 (venv), gcc, make, Node >= 20 with npm
#   tools/system_deps.sh test         the same + chromium (the site's browser tests) and libvulkan1 + chromium's
#                                     SwiftShader ICD (Dawn's software adapter in `make test-webgpu`)
#
# Missing Debian packages are installed with apt-get when this runs as root or with password-less sudo; otherwise
# it stops at once with the one command to run. Node is never installed (Debian's nodejs 18 is too old for
# Pyodide 314's JSPI and relaxed-SIMD flags): a missing or old node stops with instructions. Used by the Makefile
# (`make test`, `make serve`, `make site`) and by .ci/run. PYTHON (default python3.11) names the interpreter.
set -euo pipefail

need=${1:-test}
case $need in serve | site | test) ;; *) echo "usage: $0 serve|site|test" >&2; exit 2 ;; esac

say() { printf 'system_deps: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# pyenv installs (e.g. /root/.pyenv) are not on PATH in a non-login shell.
for d in "${PYENV_ROOT:-$HOME/.pyenv}/shims" "${PYENV_ROOT:-$HOME/.pyenv}/bin"; do
  [[ -d $d && ":$PATH:" != *":$d:"* ]] && PATH="$d:$PATH"
done

PYTHON=${PYTHON:-python3.11}
VK_SWIFTSHADER=${VK_SWIFTSHADER:-/usr/lib/chromium/vk_swiftshader_icd.json}
py_ok() { command -v "$PYTHON" >/dev/null && "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; }
has_libvulkan() { { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null || true; } | grep -q 'libvulkan\.so\.1 '; }

missing() {   # the Debian packages to install, one per line; the first line names what is missing
  pkgs=()
  what=()
  if ! py_ok; then
    [[ $PYTHON =~ ^python3\.[0-9]+$ ]] || die "$PYTHON is not usable and not an apt package name"
    pkgs+=("$PYTHON" "$PYTHON-venv"); what+=("$PYTHON (with venv)")
  fi
  command -v gcc >/dev/null || { pkgs+=(gcc libc6-dev); what+=(gcc); }
  command -v make >/dev/null || { pkgs+=(make); what+=(make); }
  if [[ $need == test ]]; then
    # Debian's chromium: the site's browser tests (Playwright never downloads a browser) and its SwiftShader ICD
    { command -v chromium >/dev/null && [[ -f $VK_SWIFTSHADER ]]; } || { pkgs+=(chromium); what+=("$VK_SWIFTSHADER"); }
    # the Vulkan loader: Dawn (npm webgpu) reaches SwiftShader through it
    has_libvulkan || { pkgs+=(libvulkan1); what+=(libvulkan.so.1); }
  fi
}

missing
if ((${#pkgs[@]})); then
  cmd="apt-get install -y --no-install-recommends ${pkgs[*]}"
  SUDO=
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO=none; fi
  fi
  if [[ $SUDO == none ]] || ! command -v apt-get >/dev/null; then
    die "need ${what[*]}: $( [[ $(id -u) != 0 ]] && echo "sudo ")$cmd"
  fi
  say "installing ${pkgs[*]} (for ${what[*]})"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${pkgs[@]}"
  missing
  ((${#pkgs[@]} == 0)) || die "still missing after apt-get: ${what[*]}"
fi

command -v node >/dev/null || die "need Node >= 20 with npm (e.g. https://deb.nodesource.com: nodejs 20.x; Debian's nodejs 18 is too old)"
command -v npm >/dev/null || die "need npm (it comes with NodeSource's nodejs 20.x)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
((node_major >= 20)) || die "need Node >= 20, found $(node --version) (e.g. https://deb.nodesource.com: nodejs 20.x)"
