#!/usr/bin/env bash
# Install the Debian packages vtdsim builds with (run as root, or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# INITRD=No: linux-image-amd64 is there for the QEMU end-to-end test, which boots it with an
# initramfs of its own; Debian's (minutes to generate) is not needed.
$SUDO env INITRD=No apt-get install -y -qq --no-install-recommends $(cat .ci/packages) >/dev/null
