#!/usr/bin/env bash
# Installs the workspace's dependencies with pnpm 10 (through npx: corepack is not needed) and builds every
# package, so that `npx gquic` works from the repository root. Needs only Node >= 20 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
pnpm() { npx --yes pnpm@10 "$@"; }
if [ "${CI:-}" = "true" ]; then pnpm install --frozen-lockfile; else pnpm install; fi
pnpm run build
