#!/usr/bin/env bash
# Builds (once) and prints the location of a Debian trixie root holding QEMU 11.1 from
# trixie-backports, the QEMU with the vfio-user-pci client (issue 14). bookworm's QEMU 7.2 has no
# vfio-user client, and 11.1 needs glibc >= 2.38 (bookworm has 2.36), so it runs chrooted in
# this root (ShadowIo.LinuxGuest's QemuRoot). Idempotent and cached: a second run only finds
# the finished root and prints the same lines.
#
# Cache: ${SHADOWIO_QEMU_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/qemu-root}
#   <key>/      one finished root; key = hash of this script and of the archive address, so a
#               changed package list builds a new root. Holds .complete and qemu.env.
#   .build-*    a root being built: renamed to <key> only once it is complete and its QEMU ran,
#               so a run killed half-way never leaves a root that a later run trusts.
#   .lock       flock: one build at a time, however many test processes start at once.
#
# Output (stdout, nothing else goes there): KEY=VALUE lines
#   SHADOWIO_QEMU_ROOT          the root directory (host path)
#   SHADOWIO_QEMU_ROOT_QEMU     qemu-system-x86_64 inside the root
#   SHADOWIO_QEMU_ROOT_VERSION  Debian version of qemu-system-x86 in it, e.g. 1:11.1.3+ds-1~bpo13+1
# Environment: SHADOWIO_DEBIAN_MIRROR overrides the archive address read from the apt sources.
set -euo pipefail
exec 3>&1 1>&2   # everything but the final KEY=VALUE lines goes to stderr

cache=${SHADOWIO_QEMU_ROOT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shadowio/qemu-root}
mkdir -p "$cache"

die() { echo "guest/qemu-root.sh: $*" >&2; exit 1; }
log() { echo "guest/qemu-root.sh: $*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo -n "$@"
  else die "need root (or password-less sudo) to run: $*"; fi
}

# The Debian archive this machine installs from: the URI of the enabled apt source serving the
# host's own release (bookworm), deb822 (*.sources) or one-line (*.list) form. trixie and
# trixie-backports are suites of the same archive.
debian_mirror() {
  if [ -n "${SHADOWIO_DEBIAN_MIRROR:-}" ]; then echo "$SHADOWIO_DEBIAN_MIRROR"; return; fi
  local codename; codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || die "/etc/os-release names no VERSION_CODENAME; set SHADOWIO_DEBIAN_MIRROR"
  local files=(); shopt -s nullglob
  files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources); shopt -u nullglob
  local f uri
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    case "$f" in
      *.sources)
        uri=$(awk -v want="$codename" '
          function flush() { if (types ~ /(^| )deb( |$)/ && enabled && suites ~ ("(^| )" want "( |$)")) { print uri; found = 1; exit } }
          /^[[:space:]]*$/ { flush(); types = ""; uri = ""; suites = ""; enabled = 1; next }
          /^Types:/ { sub(/^Types:[[:space:]]*/, ""); types = $0 }
          /^URIs:/ { uri = $2 }
          /^Suites:/ { sub(/^Suites:[[:space:]]*/, ""); suites = $0 }
          /^Enabled:[[:space:]]*no/ { enabled = 0 }
          BEGIN { enabled = 1 }
          END { if (!found) flush() }' "$f") ;;
      *)
        uri=$(awk -v want="$codename" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } if ($(i + 1) == want) { print $i; exit } }' "$f") ;;
    esac
    if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
  done
  die "no enabled apt source serves $codename (looked in ${files[*]}); set SHADOWIO_DEBIAN_MIRROR"
}

# Deletes a root directory, first unmounting anything still mounted inside it (mmdebstrap mounts
# /proc, /sys and /dev in the root while it installs; a killed build leaves them there), and never
# crossing into a filesystem that is still mounted (so a failed umount cannot delete the host's /dev).
remove_root() {
  local dir=$1 mount
  [ -e "$dir" ] || return 0
  awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mount; do as_root umount -l "$mount" || log "cannot unmount $mount"; done
  as_root rm -rf --one-file-system "$dir"
}

mirror=$(debian_mirror)
key=$( { cat "$0"; echo "$mirror"; } | sha256sum | cut -c1-16)
root="$cache/$key"
qemu=/usr/bin/qemu-system-x86_64

emit() {
  cat "$root/qemu.env" >&3
}

exec 9>"$cache/.lock"
flock 9

# Builds of killed runs (the lock is ours, so no build is running): removed, never used.
for old in "$cache"/.build-*; do [ -e "$old" ] && { log "removing an unfinished build: $old"; remove_root "$old"; }; done

if [ -f "$root/.complete" ] && [ -f "$root/qemu.env" ]; then emit; exit 0; fi
[ -e "$root" ] && remove_root "$root"   # a root without .complete is not trusted

if ! command -v mmdebstrap >/dev/null; then
  log "apt-get install mmdebstrap"
  as_root apt-get update -qq >&2 || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >&2 \
    || die "apt-get install mmdebstrap failed"
fi

build="$cache/.build-$key-$$"
trap 'remove_root "$build"' EXIT
log "building a trixie root with QEMU 11.1 from trixie-backports ($mirror) in $build"
started=$(date +%s)
as_root mmdebstrap --variant=apt --quiet \
  --include=qemu-system-x86/trixie-backports,qemu-system-common/trixie-backports,qemu-system-data/trixie-backports,seabios/trixie-backports,ipxe-qemu \
  trixie "$build" "deb $mirror trixie main" "deb $mirror trixie-backports main" >&2 \
  || die "mmdebstrap failed (see above)"

# The root is trusted only once its QEMU runs and has the vfio-user client.
as_root chroot "$build" "$qemu" --version >&2 || die "QEMU in the new root does not run"
as_root chroot "$build" "$qemu" -device help 2>&1 | grep -q '"vfio-user-pci"' \
  || die "QEMU in the new root has no vfio-user-pci device"
version=$(dpkg-query --admindir="$build/var/lib/dpkg" -W -f='${Version}' qemu-system-x86) \
  || die "qemu-system-x86 is not installed in the new root"
mkdir -p "$build/run/shadowio"
cat > "$build/qemu.env" <<ENV
SHADOWIO_QEMU_ROOT=$root
SHADOWIO_QEMU_ROOT_QEMU=$qemu
SHADOWIO_QEMU_ROOT_VERSION=$version
ENV
touch "$build/.complete"
mv -T "$build" "$root"
trap - EXIT
log "QEMU $version ready in $root ($(du -sh "$root" | cut -f1), $(( $(date +%s) - started )) s)"
# Roots of older versions of this script are not used again.
for old in "$cache"/*/; do
  old=${old%/}
  [ "$old" = "$root" ] || remove_root "$old"
done
emit
