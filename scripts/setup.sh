#!/bin/sh
# Install the Debian packages this project needs, if any are missing.
# Safe to run again: it does nothing when everything is present.
set -e
PKGS="make gcc-i686-linux-gnu binutils-i686-linux-gnu qemu-system-x86 gdb-multiarch \
python3 python3-matplotlib python3-numpy python3-pytest python3-pil babeltrace2 \
chromium chromium-driver python3-selenium"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "setup: installing$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
