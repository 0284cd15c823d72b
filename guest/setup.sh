#!/usr/bin/env bash
# Builds (once) and prints the location of the ShadowIo test guest: Debian's 6.1 kernel plus a
# busybox initramfs with fio, nvme-cli and the nvme modules, all from Debian packages, and makes
# sure qemu-system-x86 (Debian's 7.2) is installed. Idempotent and cached: a second run only
# checks versions and prints the same paths.
#
# Cache: ${SHADOWIO_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/guest}
#   debs/          downloaded .deb files (names carry their versions)
#   <key>/         one built guest; key = hash of the package versions and of these scripts
#     sysroot/     every package extracted (source of kernel, modules, binaries, libraries)
#     root/        the initramfs tree;  initramfs.cpio  its newc archive (uncompressed: no
#                  decompression cost under TCG; extra files go in a second cpio appended to it)
#     vmlinuz      the kernel;  guest.env  the lines this script prints
#
# Output (stdout, nothing else goes there): KEY=VALUE lines
#   SHADOWIO_QEMU SHADOWIO_GUEST_DIR SHADOWIO_GUEST_KERNEL SHADOWIO_GUEST_INITRD
#   SHADOWIO_GUEST_KVER SHADOWIO_GUEST_KERNEL_VERSION SHADOWIO_GUEST_SYSROOT
# Environment: SHADOWIO_KERNEL_SERIES (default 6.1) selects linux-source-<series> and the
# linux-image-<abi>-amd64 of the same Debian version.
set -euo pipefail
exec 3>&1 1>&2   # everything but the final KEY=VALUE lines goes to stderr

here=$(cd "$(dirname "$0")" && pwd)
cache=${SHADOWIO_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/guest}
series=${SHADOWIO_KERNEL_SERIES:-6.1}
mkdir -p "$cache/debs"

die() { echo "guest/setup.sh: $*" >&2; exit 1; }
log() { echo "guest/setup.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "need root (or password-less sudo) to run: $*"; fi
}

# One set-up at a time per cache (tests of several classes may start in parallel).
exec 9>"$cache/.lock"
flock 9

apt_updated=0
apt_update() {
  [ "$apt_updated" -eq 1 ] && return 0
  log "apt-get update"
  as_root apt-get update -qq >&2 || die "apt-get update failed"
  apt_updated=1
}

candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)' || true; }
# "name version" for each named package that has a candidate (one apt-cache call for all).
candidates() {
  apt-cache policy "$@" 2>/dev/null | awk '/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
    /^ *Candidate: / && $2 != "(none)" { print name, $2 }'
}

# --- QEMU -------------------------------------------------------------------------------
if ! command -v qemu-system-x86_64 >/dev/null; then
  apt_update
  log "installing qemu-system-x86 (and cpio) from Debian"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 >&2 || die "apt-get install qemu-system-x86 failed"
fi
qemu=$(command -v qemu-system-x86_64) || die "qemu-system-x86_64 not found after install"
# gcc: the linker driver NativeAOT uses to publish the kernel tests' in-guest runner.
for tool in cpio objcopy gcc; do
  if ! command -v $tool >/dev/null; then
    apt_update
    pkg=$tool; [ $tool = objcopy ] && pkg=binutils
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $pkg >&2 \
      || die "apt-get install $pkg failed"
  fi
done

# --- Versions ---------------------------------------------------------------------------
# Fast path: the same apt lists and the same scripts resolve to the same guest, so a guest
# built under this fingerprint is reused without asking apt again (resolution takes seconds).
fingerprint=$( { ls -l --time-style=+%s /var/lib/apt/lists/ 2>/dev/null; cat "$here/setup.sh" "$here/init.sh" "$here/module-order.sh"; echo "$series"; } | sha256sum | cut -c1-16)
if [ -f "$cache/resolved/$fingerprint" ]; then
  known=$(cat "$cache/resolved/$fingerprint")
  if [ -f "$known/.complete" ] && [ -f "$known/guest.env" ]; then
    sed "s|^SHADOWIO_QEMU=.*|SHADOWIO_QEMU=$qemu|" "$known/guest.env" >&3
    exit 0
  fi
fi

[ -n "$(candidate "linux-source-$series")" ] || apt_update
src_version=$(candidate "linux-source-$series")
[ -n "$src_version" ] || die "Debian serves no linux-source-$series (apt-cache policy shows no candidate)"

# The linux-image-<series>.0-<abi>-amd64 built from that same source version (the kernel modules
# are rebuilt against it, so the two must match exactly).
kver=$(candidates $(apt-cache pkgnames "linux-image-$series.0-" | grep -E "^linux-image-$series\.0-[0-9]+-amd64\$") \
  | awk -v v="$src_version" '$2 == v { print $1 }' | sort -t- -k4,4n | tail -n1)
kver=${kver#linux-image-}
[ -n "$kver" ] || die "no linux-image-$series.0-*-amd64 at version $src_version is served by Debian"

userland=(busybox-static fio nvme-cli)
# Libraries of the userland, from the dependency closure (the binaries' own NEEDED lists are
# resolved below against these; nothing from the host goes into the image).
mapfile -t libs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${userland[@]}" 2>/dev/null \
  | grep -E '^(lib|zlib)' | grep -vE '^(libpython|libperl|lib.*-perl$|libpam|libsemanage|libdebian-installer)' | sort -u)
packages=("linux-image-$kver" "${userland[@]}" "${libs[@]}")

declare -A version_of=()
while read -r p v; do version_of[$p]=$v; done < <(candidates "${packages[@]}")
declare -a pinned=()
for p in "${packages[@]}"; do
  v=${version_of[$p]:-}
  [ -n "$v" ] || { apt_update; v=$(candidate "$p"); }
  [ -n "$v" ] || die "Debian serves no package $p"
  pinned+=("$p=$v")
done

key=$( { printf '%s\n' "${pinned[@]}"; cat "$here/setup.sh" "$here/init.sh" "$here/module-order.sh"; } | sha256sum | cut -c1-16)
dir="$cache/$key"

emit() {
  cat > "$dir/guest.env.tmp" <<ENV
SHADOWIO_QEMU=$qemu
SHADOWIO_GUEST_DIR=$dir
SHADOWIO_GUEST_KERNEL=$dir/vmlinuz
SHADOWIO_GUEST_INITRD=$dir/initramfs.cpio
SHADOWIO_GUEST_KVER=$kver
SHADOWIO_GUEST_KERNEL_VERSION=$src_version
SHADOWIO_GUEST_SYSROOT=$dir/sysroot
ENV
  mv "$dir/guest.env.tmp" "$dir/guest.env"
  cat "$dir/guest.env" >&3
}

remember() {
  mkdir -p "$cache/resolved"
  echo "$dir" > "$cache/resolved/$fingerprint"
}

if [ -f "$dir/.complete" ]; then
  remember; emit; exit 0
fi

# --- Download ---------------------------------------------------------------------------
log "building guest $key (kernel $kver, Debian $src_version)"
rm -rf "$dir"; mkdir -p "$dir"
cd "$cache/debs"
need=()
for pv in "${pinned[@]}"; do
  p=${pv%%=*}; v=${pv#*=}
  ls "${p}_${v//:/%3a}_"*.deb >/dev/null 2>&1 || need+=("$pv")
done
if [ ${#need[@]} -gt 0 ]; then
  log "apt-get download ${#need[@]} packages"
  # apt drops privileges to _apt for downloads; the cache dir may not be writable for it.
  if ! apt-get download -qq "${need[@]}" >&2 2>/dev/null; then
    apt_update
    apt-get download -qq "${need[@]}" >&2 || die "apt-get download failed for: ${need[*]}"
  fi
fi

# --- Extract ----------------------------------------------------------------------------
sysroot="$dir/sysroot"; mkdir -p "$sysroot"
for pv in "${pinned[@]}"; do
  p=${pv%%=*}; v=${pv#*=}
  deb=$(ls "${p}_${v//:/%3a}_"*.deb | head -n1)
  dpkg-deb -x "$deb" "$sysroot"
done
cd "$dir"
cp "$sysroot/boot/vmlinuz-$kver" "$dir/vmlinuz"

# --- Initramfs tree ---------------------------------------------------------------------
root="$dir/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib64,lib/x86_64-linux-gnu,etc/shadowio/modules.d,proc,sys,dev,tmp,run,root,shadowio}
install -m 0755 "$here/init.sh" "$root/init"
cp "$sysroot/bin/busybox" "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list-full); do
  [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done

# Dynamic binaries and their libraries, resolved by the extracted loader against the extracted
# libraries only. Each library lands at the path its soname resolves to in the sysroot.
loader=$sysroot/lib64/ld-linux-x86-64.so.2
libpath=$(find "$sysroot" -name '*.so*' -printf '%h\n' | sort -u | paste -sd:)
copy_with_libs() {
  local bin=$1
  install -D -m 0755 "$sysroot$bin" "$root$bin"
  local out; out=$("$loader" --library-path "$libpath" --list "$sysroot$bin") \
    || die "cannot resolve the libraries of $bin"
  if grep -q 'not found' <<<"$out"; then die "libraries of $bin missing: $(grep 'not found' <<<"$out")"; fi
  local lib
  for lib in $(sed -n 's/.*=> \([^ ]*\) (0x.*/\1/p' <<<"$out"); do
    case "$lib" in "$sysroot"/*) ;; *) die "$bin resolved $lib outside the sysroot";; esac
    [ -e "$root${lib#"$sysroot"}" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root${lib#"$sysroot"}"
  done
}
install -m 0755 "$(readlink -f "$loader")" "$root/lib64/ld-linux-x86-64.so.2"
copy_with_libs /usr/bin/fio
copy_with_libs /usr/sbin/nvme
# The C++ runtime and friends, for programs placed in the image later (a .NET runtime needs
# libstdc++, libgcc_s, libm, libdl, libpthread, librt, libz).
for so in libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 libgcc_s.so.1 libstdc++.so.6 libz.so.1; do
  src=$(find "$sysroot/lib/x86_64-linux-gnu" "$sysroot/usr/lib/x86_64-linux-gnu" -maxdepth 1 -name "$so" | head -n1)
  [ -n "$src" ] || die "library $so not found in the extracted packages"
  [ -e "$root/lib/x86_64-linux-gnu/$so" ] || install -m 0755 "$(readlink -f "$src")" "$root/lib/x86_64-linux-gnu/$so"
done
# usr-merged layout as Debian 12 has it, so either path of a library resolves.
[ -e "$root/usr/lib" ] || ln -s ../lib "$root/usr/lib"

# --- nvme modules -----------------------------------------------------------------------
moddir="$sysroot/lib/modules/$kver"
[ -d "$moddir" ] || die "no modules in linux-image-$kver"
"$here/module-order.sh" "$moddir" crc64_rocksoft_generic crct10dif_generic nvme > "$dir/nvme-modules.list"
while read -r rel; do install -D -m 0644 "$moddir/$rel" "$root/lib/modules/$kver/$rel"; done < "$dir/nvme-modules.list"
cp "$dir/nvme-modules.list" "$root/etc/shadowio/modules.d/10-nvme.list"
# The KVM modules of the stock kernel (not loaded by default): the kernel tests load them, or
# patched rebuilds of kvm.ko/kvm-amd.ko, in this order.
"$here/module-order.sh" "$moddir" kvm_amd > "$dir/kvm-modules.list"
while read -r rel; do install -D -m 0644 "$moddir/$rel" "$root/lib/modules/$kver/$rel"; done < "$dir/kvm-modules.list"
cp "$dir/kvm-modules.list" "$root/etc/shadowio/kvm-modules.list"

# --- Archive ----------------------------------------------------------------------------
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) > "$dir/initramfs.cpio.tmp"
mv "$dir/initramfs.cpio.tmp" "$dir/initramfs.cpio"
printf '%s\n' "${pinned[@]}" > "$dir/packages.txt"
touch "$dir/.complete"
log "guest ready: $(du -sh "$dir/initramfs.cpio" | cut -f1) initramfs"
# Builds of older package versions or scripts are not used again.
for old in "$cache"/*/; do
  old=${old%/}
  case "$(basename "$old")" in debs|resolved|"$key") ;; *) [ -f "$old/.complete" ] && rm -rf "$old" ;; esac
done
find "$cache/resolved" -type f ! -newer "$cache/.lock" -delete 2>/dev/null || true
remember
emit
