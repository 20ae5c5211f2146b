#!/usr/bin/env bash
# Sets everything up (idempotent) and runs every check: lint, typecheck, every test.
#   bash scripts/test.sh            # all
#   bash scripts/test.sh packages/types   # only the tests under a path
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
source "$here/env.sh"
cd "$ZGRID_ROOT"
# type-aware lint of the whole repo holds every package's program: past Node's default ~4 GiB heap
echo "==> lint" >&2;      NODE_OPTIONS="--max-old-space-size=8192 ${NODE_OPTIONS:-}" eslint --max-warnings 0 .
echo "==> typecheck" >&2; tsc -p tsconfig.json
echo "==> tests" >&2
if [ $# -gt 0 ]; then globs=(); for p in "$@"; do globs+=("$p/**/*.test.ts"); done; else globs=("packages/*/src/**/*.test.ts"); fi
exec node --test --test-reporter=spec --test-concurrency=1 "${globs[@]}"
