#!/usr/bin/env bash
# Builds the compatibility apps (apps that know nothing of Mesh) once per cell, each cell a set of package versions.
# Usage: tests/compat/build.sh <out-root>
#   <out-root>/<cell>/       the published app (framework-dependent), e.g. <out-root>/web-plain/CompatWeb.dll
#   <out-root>/src/<cell>/   the copy of the project it was built from (its own obj/, so cells never share one)
#   <out-root>/logs/<cell>.log
# A cell whose <out-root>/<cell>/.stamp holds the current fingerprint (this script, the cell's arguments and the
# files of its project folder and of tests/compat's Directory.* files) is not built again. Two cells build at once.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 <out-root>" >&2
    exit 2
fi

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
script="$here/$(basename "${BASH_SOURCE[0]}")"
mkdir -p "$1"
out="$(cd "$1" && pwd)"
mkdir -p "$out/src" "$out/logs"

# Whatever launched us (a test run, a mesh under test) must not leak into the builds.
unset DOTNET_STARTUP_HOOKS MSBuildSDKsPath MSBuildExtensionsPath MSBUILD_EXE_PATH MSBuildLoadMicrosoftTargetsReadOnly \
    MSBUILDNOINPROCNODE MSBuildCacheEnabled 2>/dev/null || true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Two runs against the same <out-root> take turns.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$out/.lock"
    flock 9
fi

# The copies' own Directory.* files: they stop MSBuild's walk up at <out-root>/src, wherever <out-root> is.
for f in Directory.Build.props Directory.Packages.props Directory.Build.targets; do
    cmp -s "$here/$f" "$out/src/$f" || cp "$here/$f" "$out/src/$f"
done

# cell | project | publish arguments
cells=(
    "web-grpc-2.65|CompatWeb|-p:GrpcVersion=2.65.0"
    "web-grpc-2.67|CompatWeb|-p:GrpcVersion=2.67.0"
    "web-grpc-2.71|CompatWeb|-p:GrpcVersion=2.71.0"
    "web-grpc-2.85|CompatWeb|-p:GrpcVersion=2.85.0"
    "web-resilience-8|CompatWeb|-p:ResilienceVersion=8.10.0"
    "web-otel|CompatWeb|-p:OtelVersion=1.19.0 -p:OtelAspNetCoreVersion=1.15.2 -p:OtelHttpVersion=1.19.0"
    "web-plain|CompatWeb|"
    "worker-8|CompatWorker|"
    "worker-10|CompatWorker|-p:HostingVersion=10.0.0 -p:PollyVersion=10.0.0"
    "console-8|CompatConsole|"
)

fingerprint() { # project, arguments
    {
        sha256sum < "$script"
        printf 'args %s\n' "$2"
        (cd "$here" && sha256sum Directory.Build.props Directory.Packages.props Directory.Build.targets)
        (cd "$here/$1" && find . -type f -not -path './bin/*' -not -path './obj/*' -print0 | LC_ALL=C sort -z \
            | xargs -0 -r sha256sum)
    } | sha256sum | cut -d' ' -f1
}

build_cell() { # cell, project, arguments, fingerprint
    local cell="$1" project="$2" args="$3" print="$4"
    local src="$out/src/$cell" dest="$out/$cell" log="$out/logs/$cell.log"
    # A fresh copy of the project, keeping the copy's obj/ (restore and incremental build state) from last time.
    mkdir -p "$src"
    find "$src" -mindepth 1 -maxdepth 1 ! -name obj ! -name bin -exec rm -rf {} +
    (cd "$here/$project" && tar -cf - --exclude=./bin --exclude=./obj .) | (cd "$src" && tar -xf -)
    rm -rf "$dest"
    # shellcheck disable=SC2086 # the arguments are words on purpose
    if dotnet publish "$src/$project.csproj" -c Release -nologo -v q --disable-build-servers -o "$dest" $args \
        > "$log" 2>&1; then
        printf '%s\n' "$print" > "$dest/.stamp"
        echo ok > "$out/logs/$cell.status"
        echo "built $cell"
    else
        echo failed > "$out/logs/$cell.status"
        echo "FAILED $cell" >&2
    fi
}

started=()
for entry in "${cells[@]}"; do
    IFS='|' read -r cell project args <<< "$entry"
    print="$(fingerprint "$project" "$args")"
    if [ -f "$out/$cell/.stamp" ] && [ "$(cat "$out/$cell/.stamp")" = "$print" ] && [ -f "$out/$cell/$project.dll" ]; then
        echo "cached $cell"
        continue
    fi
    # At most two builds at once (the machine has two cores).
    while [ "$(jobs -rp | wc -l)" -ge 2 ]; do
        wait -n || true
    done
    rm -f "$out/logs/$cell.status"
    build_cell "$cell" "$project" "$args" "$print" &
    started+=("$cell")
done
wait

failed=()
for cell in "${started[@]}"; do
    [ "$(cat "$out/logs/$cell.status" 2>/dev/null)" = ok ] || failed+=("$cell")
done

if [ "${#failed[@]}" -gt 0 ]; then
    for cell in "${failed[@]}"; do
        echo "---- $cell failed; log $out/logs/$cell.log:" >&2
        cat "$out/logs/$cell.log" >&2
    done
    exit 1
fi
