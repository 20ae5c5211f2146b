#!/usr/bin/env bash
# @zgrid/flist setup hook (run by scripts/setup.sh after npm ci): fuse-native with byte-exact names.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/build-fuse-bytes.sh"
