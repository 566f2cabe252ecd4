#!/usr/bin/env bash
# Runs every test of the repository. Installs what the tests need (etcd) when it is missing; the tests start
# their own etcd processes on free loopback ports and stop them.
set -euo pipefail
cd "$(dirname "$0")"

source tools/etcd.sh
ensure_etcd

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet build Mesh.sln -c Release -nologo -v q
# The startup-hook tests run apps under the published hook, as users do.
export MESH_TEST_HOOK_DIR="$results/hook"
dotnet publish listeners/Mesh.StartupHook -c Release --no-build -o "$MESH_TEST_HOOK_DIR" -nologo -v q
# The compatibility matrix's apps: built from their own project files with the package versions real teams run,
# outside this repository's central versions; cached under tests/compat/out (a cell is rebuilt only when it changed).
export MESH_TEST_COMPAT_DIR="$PWD/tests/compat/out"
tests/compat/build.sh "$MESH_TEST_COMPAT_DIR"
status=0
dotnet test Mesh.sln -c Release --no-build -nologo -v q \
  --logger "console;verbosity=normal" --logger trx --results-directory "$results" "$@" || status=$?

# One closing line over every test project, in the plain form CI reads.
sum() { cat "$results"/*.trx 2>/dev/null | grep -o "<Counters [^>]*" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' | awk '{ s += $1 } END { print s + 0 }'; }
passed=$(sum passed); failed=$(sum failed); total=$(sum total); executed=$(sum executed)
echo "${passed:-0} passed, ${failed:-0} failed, $(( ${total:-0} - ${executed:-0} )) skipped"
exit $status
