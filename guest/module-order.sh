#!/usr/bin/env bash
# Prints, one per line and in load order (dependencies first), the .ko paths relative to
# <modules-dir> that loading the named modules needs. Dependencies are read from each module's
# own .modinfo section ("depends=a,b"), the same data modinfo -F depends shows, so no kmod is
# needed on the host. Module names compare with '-' and '_' as equal, as the kernel does.
#
# usage: module-order.sh <modules-dir> <module>...     e.g. module-order.sh root/lib/modules/6.1.0-56-amd64 nvme
set -euo pipefail

modules_dir=$1; shift
[ -d "$modules_dir" ] || { echo "module-order: no such directory: $modules_dir" >&2; exit 2; }

declare -A path_of=()
while IFS= read -r -d '' ko; do
  rel=${ko#"$modules_dir"/}
  name=$(basename "$ko" .ko); name=${name//-/_}
  path_of[$name]=$rel
done < <(find "$modules_dir" -name '*.ko' -print0)

depends_of() {
  # .modinfo is a list of NUL-terminated "key=value" strings.
  objcopy -O binary --only-section=.modinfo "$modules_dir/$1" /dev/stdout 2>/dev/null \
    | tr '\0' '\n' | sed -n 's/^depends=//p' | tr ',' '\n' | sed '/^$/d; s/-/_/g'
}

declare -A done_=() visiting=()
visit() {
  local name=${1//-/_}
  [ -n "${done_[$name]:-}" ] && return 0
  [ -n "${visiting[$name]:-}" ] && { echo "module-order: dependency cycle at $name" >&2; exit 3; }
  local rel=${path_of[$name]:-}
  [ -n "$rel" ] || { echo "module-order: module $name not found under $modules_dir (built in?)" >&2; exit 4; }
  visiting[$name]=1
  local dep
  for dep in $(depends_of "$rel"); do visit "$dep"; done
  done_[$name]=1
  echo "$rel"
}

for m in "$@"; do visit "$m"; done
