#!/bin/busybox sh
# /init of the ShadowIo test guest (busybox, runs as PID 1 from the initramfs).
# Mounts the pseudo file systems, loads the modules listed in /etc/shadowio/modules.d/*.list
# (one path per line, relative to /lib/modules/$(uname -r) or absolute, already in load order),
# then runs the payload and prints its output between the markers below on the console
# (ttyS0), and powers off. The host side (LinuxGuest) cuts the output at the markers.
#
# Payload, first found wins:
#   shadowio.cmd=<base64 of a shell command line>   on the kernel command line
#   shadowio.script=<path of a script in the image> on the kernel command line
#   /shadowio/run.sh                                 placed in the image (e.g. by an overlay cpio)
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mkdir -p /dev/pts /dev/shm
/bin/busybox mount -t devpts devpts /dev/pts
/bin/busybox mount -t tmpfs tmpfs /dev/shm
/bin/busybox mount -t tmpfs tmpfs /tmp
/bin/busybox mount -t tmpfs tmpfs /run
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/tmp
cd /

# Keep kernel messages off the console so they cannot land between the markers.
echo 1 > /proc/sys/kernel/printk

cmdline=$(cat /proc/cmdline)
arg() { for w in $cmdline; do case "$w" in "$1"=*) echo "${w#*=}"; return 0;; esac; done; return 1; }

kver=$(uname -r)
export SHADOWIO_KVER="$kver"

payload=/tmp/shadowio-payload.sh
if cmd64=$(arg shadowio.cmd); then
  echo "$cmd64" | base64 -d > "$payload"
elif script=$(arg shadowio.script); then
  payload="$script"
elif [ -f /shadowio/run.sh ]; then
  payload=/shadowio/run.sh
else
  echo 'exit 0' > "$payload"
fi

echo "=====SHADOWIO-OUTPUT-BEGIN====="
for list in /etc/shadowio/modules.d/*.list; do
  [ -f "$list" ] || continue
  while read -r ko args; do
    case "$ko" in ''|'#'*) continue;; /*) ;; *) ko="/lib/modules/$kver/$ko";; esac
    # shellcheck disable=SC2086 # module arguments are words
    if ! insmod "$ko" $args 2>/tmp/insmod.err; then
      echo "shadowio-init: insmod $ko failed: $(cat /tmp/insmod.err)"
    fi
  done < "$list"
done
sh "$payload" 2>&1
rc=$?
echo "=====SHADOWIO-OUTPUT-END rc=$rc====="
sync
poweroff -f
