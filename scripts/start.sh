#!/usr/bin/env bash
# Set up what is missing, then serve the dashboard on http://localhost:${PORT:-3000}
# with the embedded SQLite store in ${CERTPRUNE_DATA_DIR:-./data} and a local engine.
set -euo pipefail
export NEXT_TELEMETRY_DISABLED=1
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export CERTPRUNE_DATA_DIR=${CERTPRUNE_DATA_DIR:-$PWD/data}
mkdir -p "$CERTPRUNE_DATA_DIR"
echo "[start] dashboard on http://${CERTPRUNE_HOST:-127.0.0.1}:${PORT:-3000} (data in $CERTPRUNE_DATA_DIR; CERTPRUNE_HOST=0.0.0.0 listens on every interface)"
exec npx next start -p "${PORT:-3000}" -H "${CERTPRUNE_HOST:-127.0.0.1}"
