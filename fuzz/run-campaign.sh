#!/usr/bin/env bash
# Coverage-guided fuzzing campaign: AFL++ over a SharpFuzz-instrumented ShadowIo target.
#
#   fuzz/run-campaign.sh nvme|vfio-user|vfio-user-virtio|vfio-user-client|virtio-blk [minutes=10]
#
# Installs afl++ (Debian) and the sharpfuzz tool (under ~/.cache/shadowio) if missing, publishes
# fuzz/ShadowIo.Fuzz in Release, instruments the ShadowIo assemblies in place, runs one afl-fuzz
# instance from the corpus in fuzz/corpus/TARGET for the given minutes, then prints executions,
# edges covered, time and crashes. Findings go to fuzz/findings/TARGET (git-ignored); new crashes
# are copied to fuzz/findings/TARGET-crashes for triage with `dotnet .../shadowio-fuzz.dll TARGET FILE`.
# Environment: AFL_CMIN=1 also minimizes the final queue (afl-cmin -e) into fuzz/findings/TARGET-cmin.
set -euo pipefail

target=${1:?usage: fuzz/run-campaign.sh nvme|vfio-user|vfio-user-virtio|vfio-user-client|virtio-blk [minutes]}
minutes=${2:-10}
case "$target" in nvme|vfio-user|vfio-user-virtio|vfio-user-client|virtio-blk) ;; *) echo "unknown target '$target' (nvme, vfio-user, vfio-user-virtio, vfio-user-client, virtio-blk)" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${SHADOWIO_CACHE:-$HOME/.cache/shadowio}
tools=$cache/tools
out=$root/fuzz/findings/$target
publish=$root/fuzz/findings/.publish-$target
corpus=$root/fuzz/corpus/$target

if ! command -v afl-fuzz >/dev/null; then
    echo "installing afl++ (Debian package)..."
    sudo_=""; [ "$(id -u)" -ne 0 ] && sudo_=sudo
    $sudo_ apt-get update -qq && $sudo_ apt-get install -y -qq afl++ >/dev/null
fi
if [ ! -x "$tools/sharpfuzz" ]; then
    echo "installing the sharpfuzz tool (SharpFuzz.CommandLine 2.3.0) into $tools..."
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools" >/dev/null
fi

echo "publishing fuzz/ShadowIo.Fuzz (Release)..."
rm -rf "$publish"
dotnet publish "$root/fuzz/ShadowIo.Fuzz/ShadowIo.Fuzz.csproj" -c Release -o "$publish" --nologo -v quiet >/dev/null
# The code under test: the runtime, the vfio-user transport, the NVMe controller and the virtio-blk
# device, plus the controller's episode and raw drivers (ShadowIo.Fuzz.Nvme.dll, instrumented as
# they were when they lived in the sample's assembly, so AFL also sees which driver paths an input
# takes) and the virtio driver model (ShadowIo.Fuzz.Virtio.dll, for the same reason). The
# harness, shadowio-fuzz.dll, SharpFuzz and third-party packages stay uninstrumented.
for dll in ShadowIo.dll ShadowIo.VfioUser.dll ShadowIo.Devices.Nvme.dll ShadowIo.Fuzz.Nvme.dll ShadowIo.Devices.Virtio.dll ShadowIo.Fuzz.Virtio.dll; do
    "$tools/sharpfuzz" "$publish/$dll" >/dev/null
    echo "instrumented $dll"
done

rm -rf "$out"
mkdir -p "$out"
dotnet_=$(readlink -f "$(command -v dotnet)")     # afl-cmin wants a real path
export AFL_SKIP_BIN_CHECK=1                       # the target binary is `dotnet`, not an afl-cc build
export AFL_SKIP_CPUFREQ=1
export AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export AFL_NO_UI=1
export AFL_NO_AFFINITY=1                          # a shared machine: let the scheduler place it
export AFL_FORKSRV_INIT_TMOUT=60000               # .NET start-up plus JIT before the first input
export DOTNET_TieredPGO=0                         # steadier trace bits across runs
echo "afl-fuzz: $target for $minutes min from $corpus ($(ls "$corpus" | wc -l) files)"
set +e
afl-fuzz -i "$corpus" -o "$out" -t 5000 -m none -V $((minutes * 60)) -- "$dotnet_" "$publish/shadowio-fuzz.dll" "$target" > "$out/afl.log" 2>&1
status=$?
set -e
stats=$out/default/fuzzer_stats
if [ ! -f "$stats" ]; then
    echo "afl-fuzz exited with $status and wrote no statistics; its log:" >&2
    tail -40 "$out/afl.log" >&2
    exit 1
fi
get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
start=$(get start_time); last=$(get last_update)
echo
echo "target            $target"
echo "minutes run       $(( (last - start) / 60 )).$(( ((last - start) % 60) * 10 / 60 ))"
echo "executions        $(get execs_done) ($(get execs_per_sec)/s)"
echo "edges covered     $(get edges_found) of $(get total_edges) (bitmap_cvg $(get bitmap_cvg))"
echo "corpus (queue)    $(get corpus_count)"
echo "stability         $(get stability)"
echo "crashes           $(get saved_crashes)"
echo "hangs             $(get saved_hangs)"
crashes=$(find "$out/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
if [ "$crashes" -gt 0 ]; then
    mkdir -p "$root/fuzz/findings/$target-crashes"
    cp "$out"/default/crashes/id:* "$root/fuzz/findings/$target-crashes/"
    echo "crash inputs      fuzz/findings/$target-crashes (replay: dotnet $publish/shadowio-fuzz.dll $target FILE)"
fi
if [ "${AFL_CMIN:-0}" = 1 ]; then
    rm -rf "$out-cmin"
    # -e: edge coverage only (hit counts ignored), which keeps the corpus small.
    afl-cmin -e -i "$out/default/queue" -o "$out-cmin" -t 5000 -m none -- "$dotnet_" "$publish/shadowio-fuzz.dll" "$target" >/dev/null 2>&1 || true
    echo "minimized corpus  $out-cmin ($(ls "$out-cmin" 2>/dev/null | wc -l) files)"
fi
