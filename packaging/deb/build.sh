#!/bin/sh
# Builds the Debian package from a built binary, with dpkg-deb (Debian's own tool: no
# cargo-deb to install and compile):
#
#   sh packaging/deb/build.sh target/release/librechat dist/
#
# It installs /usr/bin/librechat, the systemd unit, /etc/librechat/{librechat.yaml,librechat.env}
# (conffiles: dpkg keeps local edits on upgrade), completions and the man page; postinst
# creates the `librechat` user and /var/lib/librechat and enables the service (through
# deb-systemd-helper, which remembers the administrator's choice); remove keeps the data, purge
# deletes it. DEB_COMPRESSION (default xz) is passed to dpkg-deb -Z.
set -eu

BINARY=$1
OUT=${2:-.}
HERE=$(cd "$(dirname "$0")" && pwd)
PACKAGING=$(dirname "$HERE")
VERSION=$("$BINARY" --version | awk '{print $2}')
ARCH=$(dpkg --print-architecture)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

install -D -m 0755 "$BINARY" "$STAGE/usr/bin/librechat"
install -D -m 0644 "$PACKAGING/systemd/librechat.service" "$STAGE/lib/systemd/system/librechat.service"
install -D -m 0640 "$PACKAGING/config/librechat.yaml" "$STAGE/etc/librechat/librechat.yaml"
install -D -m 0640 "$PACKAGING/config/librechat.env" "$STAGE/etc/librechat/librechat.env"
mkdir -p "$STAGE/usr/share/bash-completion/completions" "$STAGE/usr/share/zsh/vendor-completions" \
  "$STAGE/usr/share/fish/vendor_completions.d" "$STAGE/usr/share/man/man1" "$STAGE/usr/share/doc/librechat"
"$BINARY" completions bash > "$STAGE/usr/share/bash-completion/completions/librechat"
"$BINARY" completions zsh > "$STAGE/usr/share/zsh/vendor-completions/_librechat"
"$BINARY" completions fish > "$STAGE/usr/share/fish/vendor_completions.d/librechat.fish"
"$BINARY" manpage | gzip -9n > "$STAGE/usr/share/man/man1/librechat.1.gz"
cat > "$STAGE/usr/share/doc/librechat/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: librechat
License: MIT
COPYRIGHT

mkdir -p "$STAGE/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "$HERE/$script" "$STAGE/DEBIAN/$script"
done
printf '/etc/librechat/librechat.yaml\n/etc/librechat/librechat.env\n' > "$STAGE/DEBIAN/conffiles"
SIZE=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
# The glibc the binary needs: the newest symbol version it names, and 2.36 when its
# relocations are packed (DT_RELR; see build.rs), so dpkg refuses a system too old to start it.
GLIBC=$(grep -ao 'GLIBC_2\.[0-9]*' "$BINARY" | sed 's/GLIBC_//' | sort -uV | tail -n 1)
if grep -aq GLIBC_ABI_DT_RELR "$BINARY"; then
  GLIBC=$(printf '%s\n2.36\n' "$GLIBC" | sort -V | tail -n 1)
fi
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: librechat
Version: $VERSION
Architecture: $ARCH
Maintainer: librechat maintainers <librechat@localhost>
Installed-Size: $SIZE
Depends: libc6 (>= ${GLIBC:-2.17}), passwd
Section: net
Priority: optional
Description: self-hosted, multi-user AI chat service in one executable
 A complete LibreChat-compatible chat server: every major AI provider, branching
 conversations, search, presets, agents, single sign-on, balances and bans, with
 SQLite for data. No database server, search engine or other service to run.
CONTROL

mkdir -p "$OUT"
DEB="$OUT/librechat_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
