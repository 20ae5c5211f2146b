#!/usr/bin/env bash
# Quick start command 1: sets everything up (idempotent) and runs zgrid's main job on the
# embedded local grid. Until the CLI lands (`zgrid up` + deploy a VM), it runs the best demo there is.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
bash "$here/setup.sh"
source "$here/env.sh"
exec node "$ZGRID_ROOT/scripts/demo.ts" "$@"
