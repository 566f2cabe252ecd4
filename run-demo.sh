#!/usr/bin/env bash
# Builds and runs the Mesh demo. By default on the embedded provider (a JSON file; no etcd needed).
# With --etcd: installs etcd if missing, starts a private one on loopback, and runs the same services on it,
# with endpoints registered by the services themselves and rules changed mid-run by meshctl.
set -euo pipefail
cd "$(dirname "$0")"
projects=(examples/Mesh.Examples.Demo examples/Mesh.Examples.Frontend examples/Mesh.Examples.Orders examples/Mesh.Examples.Stock examples/Mesh.Examples.Pricing)
if [[ " $* " == *" --etcd "* ]]; then
  source tools/etcd.sh
  ensure_etcd
  start_private_etcd
  projects+=(tools/meshctl)
fi
for project in "${projects[@]}"; do
  dotnet build "$project" -c Release -nologo -v q
done
dotnet examples/Mesh.Examples.Demo/bin/Release/net10.0/Mesh.Examples.Demo.dll "$@"
