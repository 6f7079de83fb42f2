#!/bin/sh
# Installs librechat on a plain Linux box with systemd: the binary in /usr/local/bin, a
# `librechat` system user, configuration in /etc/librechat (never overwritten), data in
# /var/lib/librechat, the service unit (enabled and started), shell completions and the man
# page. Safe to run again: an upgrade replaces the binary and restarts the service.
#
#   sudo sh install.sh [--binary PATH]     install or upgrade
#   sudo sh install.sh --uninstall         remove it all but the data, configuration and user
#
# --root DIR installs under DIR instead of / and leaves users and systemd alone (for packaging
# and tests). Run from the folder that holds this script's companions: systemd/ and config/.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=""
BINARY=""
ACTION=install
while [ $# -gt 0 ]; do
  case "$1" in
    --uninstall) ACTION=uninstall ;;
    --binary) BINARY="$2"; shift ;;
    --root) ROOT="$2"; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

SYSTEM=yes
[ -n "$ROOT" ] && SYSTEM=no
if [ "$SYSTEM" = yes ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run it as root (sudo sh install.sh)" >&2
  exit 1
fi
with_systemd() { [ "$SYSTEM" = yes ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

BIN_DIR="$ROOT/usr/local/bin"
UNIT="$ROOT/etc/systemd/system/librechat.service"
CONF_DIR="$ROOT/etc/librechat"
DATA_DIR="$ROOT/var/lib/librechat"
BASH_COMP="$ROOT/usr/local/share/bash-completion/completions/librechat"
ZSH_COMP="$ROOT/usr/local/share/zsh/site-functions/_librechat"
FISH_COMP="$ROOT/usr/local/share/fish/vendor_completions.d/librechat.fish"
MAN="$ROOT/usr/local/share/man/man1/librechat.1"

if [ "$ACTION" = uninstall ]; then
  if with_systemd; then
    systemctl disable --now librechat.service 2>/dev/null || true
  fi
  rm -f "$BIN_DIR/librechat" "$UNIT" "$BASH_COMP" "$ZSH_COMP" "$FISH_COMP" "$MAN"
  if with_systemd; then systemctl daemon-reload; fi
  echo "librechat removed. Kept: $DATA_DIR (your data), $CONF_DIR and the librechat user."
  echo "To remove those too: rm -rf $DATA_DIR $CONF_DIR && userdel librechat"
  exit 0
fi

if [ -z "$BINARY" ]; then
  for candidate in "$HERE/librechat" "./librechat" "$HERE/../target/release/librechat"; do
    if [ -x "$candidate" ]; then BINARY="$candidate"; break; fi
  done
fi
if [ -z "$BINARY" ] || [ ! -x "$BINARY" ]; then
  echo "install.sh: no librechat binary found; pass --binary PATH" >&2
  exit 1
fi
"$BINARY" --version >/dev/null || { echo "install.sh: $BINARY does not run on this machine" >&2; exit 1; }

# The account the service runs as.
if [ "$SYSTEM" = yes ] && ! getent passwd librechat >/dev/null; then
  NOLOGIN=$(command -v nologin || echo /usr/sbin/nologin)
  useradd --system --user-group --home-dir /var/lib/librechat --no-create-home \
    --shell "$NOLOGIN" --comment "LibreChat" librechat
fi

# The binary: replaced in one step, so a running service keeps its old file until restarted.
mkdir -p "$BIN_DIR"
install -m 0755 "$BINARY" "$BIN_DIR/librechat.new"
mv -f "$BIN_DIR/librechat.new" "$BIN_DIR/librechat"

# Configuration: written only when absent, so edits survive upgrades.
mkdir -p "$CONF_DIR"
[ -e "$CONF_DIR/librechat.yaml" ] || install -m 0640 "$HERE/config/librechat.yaml" "$CONF_DIR/librechat.yaml"
[ -e "$CONF_DIR/librechat.env" ] || install -m 0640 "$HERE/config/librechat.env" "$CONF_DIR/librechat.env"
mkdir -p "$DATA_DIR"
chmod 0750 "$CONF_DIR" "$DATA_DIR"
if [ "$SYSTEM" = yes ]; then
  chown root:librechat "$CONF_DIR" "$CONF_DIR/librechat.yaml" "$CONF_DIR/librechat.env"
  chown librechat:librechat "$DATA_DIR"
fi

# The unit, pointing at this binary.
mkdir -p "$(dirname "$UNIT")"
sed 's|^ExecStart=/usr/bin/librechat |ExecStart=/usr/local/bin/librechat |' \
  "$HERE/systemd/librechat.service" > "$UNIT.new"
mv -f "$UNIT.new" "$UNIT"

# Completions and the man page, made by the binary itself.
mkdir -p "$(dirname "$BASH_COMP")" "$(dirname "$ZSH_COMP")" "$(dirname "$FISH_COMP")" "$(dirname "$MAN")"
"$BIN_DIR/librechat" completions bash > "$BASH_COMP"
"$BIN_DIR/librechat" completions zsh > "$ZSH_COMP"
"$BIN_DIR/librechat" completions fish > "$FISH_COMP"
"$BIN_DIR/librechat" manpage > "$MAN"

if with_systemd; then
  systemctl daemon-reload
  systemctl enable librechat.service >/dev/null
  # A first install starts it; an upgrade restarts it on the new binary.
  systemctl restart librechat.service
  echo "librechat is running: systemctl status librechat; logs: journalctl -u librechat"
else
  echo "librechat installed under ${ROOT:-/} (systemd not in charge here: start it with"
  echo "  $BIN_DIR/librechat serve --data-dir $DATA_DIR --config $CONF_DIR/librechat.yaml --env-file $CONF_DIR/librechat.env)"
fi
echo "Configuration: $CONF_DIR/librechat.yaml and $CONF_DIR/librechat.env"
