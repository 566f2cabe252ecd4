#!/usr/bin/env bash
# Runs every test of the repository. Installs what the tests need (etcd) when it is missing.
set -euo pipefail
cd "$(dirname "$0")"

if ! command -v etcd >/dev/null 2>&1; then
  echo "test.sh: installing etcd-server (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq etcd-server etcd-client >/dev/null
  # The package starts a system etcd on the default ports; the tests start their own on free loopback ports.
  (systemctl stop etcd 2>/dev/null || service etcd stop 2>/dev/null || pkill -x etcd 2>/dev/null || true)
fi

dotnet build Mesh.sln -c Release -nologo -v q
dotnet test Mesh.sln -c Release --no-build -nologo -v q --logger "console;verbosity=normal" "$@"
