#!/usr/bin/env bash
# Builds and runs the Mesh demo. By default on the embedded provider (a JSON file; no etcd needed).
# With --etcd: installs etcd if missing, starts a private one on loopback, and runs the same services on it,
# with endpoints registered by the services themselves and rules changed mid-run by meshctl.
set -euo pipefail
cd "$(dirname "$0")"
# One build of the demo's projects (examples/demo.slnf), so that their shared dependencies are built once, in parallel.
builds=(examples/demo.slnf)
if [[ " $* " == *" --etcd "* ]]; then
  source tools/etcd.sh
  ensure_etcd
  start_private_etcd
  builds+=(tools/meshctl)
fi
for build in "${builds[@]}"; do
  dotnet build "$build" -c Release -nologo -v q
done
dotnet examples/Mesh.Examples.Demo/bin/Release/net10.0/Mesh.Examples.Demo.dll "$@"
