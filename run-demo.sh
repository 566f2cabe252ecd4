#!/usr/bin/env bash
# Builds and runs the Mesh demo on the embedded default provider (a JSON file; no etcd needed).
set -euo pipefail
cd "$(dirname "$0")"
dotnet build examples/Mesh.Examples.Demo -c Release -nologo -v q
for project in Frontend Orders Stock; do
  dotnet build "examples/Mesh.Examples.$project" -c Release -nologo -v q
done
exec dotnet examples/Mesh.Examples.Demo/bin/Release/net10.0/Mesh.Examples.Demo.dll "$@"
