#!/usr/bin/env bash
# Installs the reference peers the interop tests run against: ngtcp2's gtlsserver/gtlsclient (Debian packages,
# through ../shared/peers/install.sh). quiche comes from npm (@matrixai/quic, a dev dependency).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
peers="$here/../shared/peers"
if [ ! -x "$peers/install.sh" ] && [ ! -f "$peers/install.sh" ]; then
  echo "peers: $peers/install.sh not found; the ngtcp2 interop cases will fail" >&2
  exit 0
fi
bash "$peers/install.sh" || echo "peers: installing ngtcp2 failed; the ngtcp2 interop cases will fail" >&2
