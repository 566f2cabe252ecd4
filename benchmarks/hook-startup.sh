#!/usr/bin/env bash
# Start-up cost of the startup hook: an app that knows nothing of Mesh (tests/assets/PlainClient, making no call)
# started N times without and with DOTNET_STARTUP_HOOKS; prints the median wall time of each and the difference.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dotnet build tests/assets/PlainClient -c Release -nologo -v q >/dev/null
dotnet publish listeners/Mesh.StartupHook -c Release -o "$work/hook" -nologo -v q >/dev/null
app=tests/assets/PlainClient/bin/Release/net10.0/PlainClient.dll
echo '{ "services": { "orders": { "endpoints": [ { "id": "o1", "address": "http://127.0.0.1:1" } ] } } }' > "$work/mesh.json"

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
measure() {
  for _ in $(seq "$runs"); do
    start=$(date +%s%N)
    env "$@" dotnet "$app" 0 >/dev/null
    echo $(( ($(date +%s%N) - start) / 1000000 ))
  done | median
}

dotnet "$app" 0 >/dev/null # warm the disk cache once
without=$(measure DOTNET_STARTUP_HOOKS=)
with=$(measure DOTNET_STARTUP_HOOKS="$work/hook/Mesh.StartupHook.dll" MESH_CONFIG="$work/mesh.json")
echo "runs per mode: $runs"
echo "median start without hook: ${without} ms"
echo "median start with hook:    ${with} ms"
echo "added by the hook:         $(awk "BEGIN { print $with - $without }") ms"
