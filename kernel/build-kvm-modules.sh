#!/usr/bin/env bash
# Builds kvm.ko and kvm-amd.ko for the test guest's Debian kernel with the post-write patch
# (kernel/kvm-ioeventfd-post-write.patch) applied. Everything comes from Debian at the guest
# kernel's exact version: linux-source-<series> (only virt/kvm, arch/x86/kvm and the touched
# headers are unpacked), linux-headers-<abi>-amd64 + -common, linux-kbuild-<series>; the build
# runs with the host's gcc-12 (Debian 12's, the compiler that built the kernel) against a
# private merged copy of the headers (the system's /usr/src is not touched).
#
# Cached: ${SHADOWIO_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/kvm-modules}/<key>,
# key = hash of the patch, this script and the kernel version. A second run prints the paths.
#
# Output (stdout): SHADOWIO_KVM_MODULES_DIR, SHADOWIO_KVM_KO, SHADOWIO_KVM_AMD_KO,
# SHADOWIO_KVM_KVER, SHADOWIO_KVM_BUILD_SECONDS (of the build that filled the cache).
# Environment: SHADOWIO_BUILD_JOBS (default 2; this machine has two shared cores).
set -euo pipefail
exec 3>&1 1>&2

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
patch_file="$here/kvm-ioeventfd-post-write.patch"
cache=${SHADOWIO_KVM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/kvm-modules}
jobs=${SHADOWIO_BUILD_JOBS:-2}
mkdir -p "$cache/debs"

die() { echo "kernel/build-kvm-modules.sh: $*" >&2; exit 1; }
log() { echo "kernel/build-kvm-modules.sh: $*" >&2; }

# The guest set-up resolves the kernel (the linux-image built from the current linux-source).
guest_env=$("$repo/guest/setup.sh") || die "guest/setup.sh failed"
kver=$(sed -n 's/^SHADOWIO_GUEST_KVER=//p' <<<"$guest_env")
version=$(sed -n 's/^SHADOWIO_GUEST_KERNEL_VERSION=//p' <<<"$guest_env")
[ -n "$kver" ] && [ -n "$version" ] || die "guest/setup.sh printed no kernel version"
series=${kver%%.0-*}            # 6.1.0-56-amd64 -> 6.1
abi=${kver%-amd64}              # 6.1.0-56

# One kernel build at a time on this machine (two shared cores).
exec 9>"$cache/.lock"
flock 9

key=$( { cat "$patch_file" "$here/build-kvm-modules.sh"; echo "$kver $version"; } | sha256sum | cut -c1-16)
out="$cache/$key"
emit() {
  cat >&3 <<ENV
SHADOWIO_KVM_MODULES_DIR=$out
SHADOWIO_KVM_KO=$out/kvm.ko
SHADOWIO_KVM_AMD_KO=$out/kvm-amd.ko
SHADOWIO_KVM_KVER=$kver
SHADOWIO_KVM_BUILD_SECONDS=$(cat "$out/build-seconds")
ENV
}
if [ -f "$out/.complete" ]; then emit; exit 0; fi

for tool in make gcc-12 patch xz flex bison bc; do
  command -v $tool >/dev/null || missing+=" $tool"
done
if [ -n "${missing:-}" ]; then
  log "installing build tools:$missing"
  pkgs=(make gcc-12 patch xz-utils flex bison bc libelf-dev)
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2 \
    || { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >&2; } \
    || die "cannot install the build tools (${pkgs[*]})"
fi

started=$(date +%s)
log "building patched kvm.ko and kvm-amd.ko for $kver (Debian $version) in $out"
rm -rf "$out"; mkdir -p "$out"
work="$out/work"; mkdir -p "$work"

# --- Fetch ------------------------------------------------------------------------------
packages=("linux-source-$series=$version" "linux-headers-$kver=$version"
          "linux-headers-$abi-common=$version" "linux-kbuild-$series=$version")
cd "$cache/debs"
need=()
for pv in "${packages[@]}"; do
  p=${pv%%=*}; v=${pv#*=}
  ls "${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || need+=("$pv")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get download -qq "${need[@]}" >&2 2>/dev/null \
    || { apt-get update -qq >&2; apt-get download -qq "${need[@]}" >&2; } \
    || die "Debian does not serve: ${need[*]}"
fi
deb() { ls "$cache/debs/${1}_${version//:/%3a}_"*.deb | head -n1; }

# --- Headers: one merged tree (common = srctree, amd64 = config + generated) -------------
root="$work/root"; mkdir -p "$root"
for p in "linux-headers-$kver" "linux-headers-$abi-common" "linux-kbuild-$series"; do
  dpkg-deb -x "$(deb "$p")" "$root"
done
tree="$work/tree"
cp -a "$root/usr/src/linux-headers-$abi-common" "$tree"
rm "$tree/scripts" "$tree/tools"
ln -s "$root/usr/lib/linux-kbuild-$series/scripts" "$tree/scripts"
ln -s "$root/usr/lib/linux-kbuild-$series/tools" "$tree/tools"
(cd "$root/usr/src/linux-headers-$kver" && tar -cf - --exclude=./Makefile --exclude=./scripts --exclude=./tools .) \
  | (cd "$tree" && tar -xf -)

# --- Source: only what the modules need, then the patch ----------------------------------
src="$work/src"; mkdir -p "$src"
dpkg-deb --fsys-tarfile "$(deb "linux-source-$series")" \
  | tar -xOf - "./usr/src/linux-source-$series.tar.xz" \
  | xz -dc \
  | tar -xf - -C "$src" --strip-components=1 \
      "linux-source-$series/virt/kvm" "linux-source-$series/arch/x86/kvm" \
      "linux-source-$series/include/uapi/linux/kvm.h" "linux-source-$series/Documentation/virt/kvm/api.rst"
patch -p1 --batch --forward -d "$src" < "$patch_file" >&2 || die "the patch does not apply to linux-source-$series $version"
cp -a "$src/virt" "$tree/"
rm -rf "$tree/arch/x86/kvm"; cp -a "$src/arch/x86/kvm" "$tree/arch/x86/kvm"
cp "$src/include/uapi/linux/kvm.h" "$tree/include/uapi/linux/kvm.h"

# --- Build --------------------------------------------------------------------------------
# CONFIG_KVM_INTEL= drops kvm-intel.ko from the object list (only kvm and kvm-amd are needed;
# TCG emulates AMD SVM, not Intel VMX). Compile-time configuration stays Debian's.
if ! make -C "$tree" M="$tree/arch/x86/kvm" -j"$jobs" CONFIG_KVM_INTEL= modules > "$out/build.log" 2>&1; then
  tail -n 40 "$out/build.log" >&2
  die "module build failed (log: $out/build.log)"
fi
cp "$tree/arch/x86/kvm/kvm.ko" "$tree/arch/x86/kvm/kvm-amd.ko" "$out/"
grep -q "vermagic=$kver " <(tr '\0' '\n' < "$out/kvm.ko") || die "kvm.ko was not built for $kver"
echo $(( $(date +%s) - started )) > "$out/build-seconds"
rm -rf "$work"
touch "$out/.complete"
log "built in $(cat "$out/build-seconds") s"
for old in "$cache"/*/; do
  old=${old%/}
  case "$(basename "$old")" in debs|"$key") ;; *) [ -f "$old/.complete" ] && rm -rf "$old" ;; esac
done
emit
