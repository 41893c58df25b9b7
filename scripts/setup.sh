#!/usr/bin/env bash
# Installs whatever CertPrune needs that is missing, and builds the dashboard.
# Idempotent: run again, it skips what is already there. Needs root for apt-get
# (without root, install the Debian packages listed in README.md yourself first).
#   bash scripts/setup.sh          # what the dashboard needs
#   bash scripts/setup.sh --test   # plus what the tests need (chromium, redis-server)
# The engine's Python: a virtual environment in ./.venv with engine/requirements.txt
# (PyTorch 2.13; set CERTPRUNE_PYTHON to use another interpreter that has them).
set -euo pipefail
export NEXT_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."

# Debian packages only for what is not Python: the venv module and the FashionMNIST data
# set; the engine's Python packages are pinned in engine/requirements.txt (into ./.venv).
ENGINE_PACKAGES=(python3-venv dataset-fashion-mnist)
TEST_PACKAGES=(chromium redis-server)
packages=("${ENGINE_PACKAGES[@]}")
[[ "${1:-}" == "--test" ]] && packages+=("${TEST_PACKAGES[@]}")

say() { printf '[setup] %s\n' "$*"; }

# Node.js: Next.js 16 needs 20.9 or newer (Debian 12's own nodejs is 18).
if ! command -v node >/dev/null; then
  say "Node.js is missing: install Node.js 20.9 or newer (e.g. from NodeSource), then run this again."; exit 1
fi
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=9)?0:1)' || {
  say "Node.js $(node --version) is too old: CertPrune needs 20.9 or newer."; exit 1; }

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    say "missing Debian packages: ${missing[*]}; install them as root (apt-get install ${missing[*]}) and run this again."; exit 1
  fi
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The engine's virtual environment: made from Debian's Python, filled from the pinned
# requirements, and re-filled when engine/requirements.txt is newer than its stamp.
# pip takes PyTorch's CPU build from the machine's wheel folder when there is one
# (PIP_FIND_LINKS); a GPU host installs its CUDA build of the same version (README).
venv=.venv
if [[ -z ${CERTPRUNE_PYTHON:-} ]]; then
  if [[ ! -x $venv/bin/python ]]; then
    say "making the engine's virtual environment ($venv)"
    /usr/bin/python3 -m venv "$venv"
  fi
  if [[ ! -f $venv/.requirements-installed || engine/requirements.txt -nt $venv/.requirements-installed ]]; then
    say "installing the engine's Python packages (engine/requirements.txt)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r engine/requirements.txt
    touch "$venv/.requirements-installed"
  fi
fi
python=${CERTPRUNE_PYTHON:-$PWD/$venv/bin/python}
"$python" -c 'import torch, numpy, scipy, onnx, jsonschema' 2>/dev/null || {
  say "$python cannot import torch/numpy/scipy/onnx/jsonschema; install engine/requirements.txt into it, or unset CERTPRUNE_PYTHON."; exit 1; }

# npm ci when node_modules is missing or older than the lockfile.
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# next build when there is no build, or any source is newer than it.
build_id=${CERTPRUNE_NEXT_DIR:-.next}/BUILD_ID
if [[ ! -f $build_id ]] || [[ -n $(find app components lib server public next.config.js package-lock.json -newer "$build_id" -print -quit 2>/dev/null) ]]; then
  say "building the dashboard (next build)"
  npx next build >/tmp/certprune-build.log 2>&1 || { cat /tmp/certprune-build.log; say "next build failed"; exit 1; }
fi
say "ready"
