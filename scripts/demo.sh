#!/usr/bin/env bash
# Quick start command 1: sets everything up (idempotent), starts the local grid (`zgrid up`),
# deploys a VM with your SSH key and prints how to reach it. `zgrid down` stops it all.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
source "$here/env.sh"
exec node "$ZGRID_ROOT/scripts/demo.ts" "$@"
