#!/usr/bin/env bash
# Build the demo target image (Debian bookworm with systemd, sshd, Redis, PostgreSQL, nginx,
# Python 3 and the demo app's libraries) unless an image built from the same inputs exists.
# The packages come from this machine's own Debian sources; no mirror is named here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
image=${DEMO_IMAGE:-localhost/deploy-baseline-target}

die() { echo "image.sh: $*" >&2; exit 1; }
command -v podman >/dev/null || die "podman is not installed; run: apt-get install -y podman runc mmdebstrap"
command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed; run: apt-get install -y mmdebstrap"

inputs_hash=$(cat "$here/image.sh" "$here/packages.txt" | sha256sum | cut -c1-16)
if podman image exists "$image"; then
  current=$(podman image inspect --format '{{ index .Labels "inputs_hash" }}' "$image" 2>/dev/null || true)
  if [ "$current" = "$inputs_hash" ]; then
    echo "image $image is up to date ($inputs_hash)"
    exit 0
  fi
  echo "image $image was built from other inputs ($current); rebuilding"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
packages=$(grep -v '^#' "$here/packages.txt" | paste -sd, -)
echo "building $image from Debian bookworm (about a minute)..."
if ! mmdebstrap --quiet --variant=apt --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='echo -n > "$1/etc/machine-id"' \
    --customize-hook='chroot "$1" systemctl mask getty@tty1.service console-getty.service systemd-logind.service >/dev/null' \
    --customize-hook='chroot "$1" systemctl disable prometheus-node-exporter.service >/dev/null 2>&1' \
    --customize-hook='mkdir -p "$1/root/.ssh" && chmod 700 "$1/root/.ssh"' \
    --customize-hook='echo "PermitRootLogin prohibit-password" > "$1/etc/ssh/sshd_config.d/10-demo.conf"' \
    bookworm "$work/rootfs.tar" > "$work/build.log" 2>&1; then
  tail -n 30 "$work/build.log" >&2
  die "the image build failed (log above); check that 'apt-get update' works on this machine"
fi
podman import --quiet \
  --change 'CMD ["/sbin/init"]' --change 'STOPSIGNAL SIGRTMIN+3' \
  --change "LABEL inputs_hash=$inputs_hash" \
  "$work/rootfs.tar" "$image" >/dev/null
echo "built $image ($inputs_hash)"
