#!/usr/bin/env bash
# Builds the explorer's web dashboard (Vite + Preact + uPlot) into packages/explorer/web/dist.
# Idempotent: rebuilds only when the dashboard's sources or the lockfile changed.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$here/../../scripts/env.sh"
cd "$ZGRID_ROOT"
web="$here/web"
stamp="$web/dist/.build-stamp"
want="$(cat package-lock.json "$web/index.html" "$web/vite.config.ts" "$web/tsconfig.json" $(find "$web/src" -type f | sort) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  printf '\033[1m==> %s\033[0m\n' "building the explorer dashboard" >&2
  node_modules/.bin/tsc -p "$web"
  node_modules/.bin/vite build --config "$web/vite.config.ts"
  echo "$want" > "$stamp"
fi
