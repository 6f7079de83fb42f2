#!/bin/sh
# Points the formula at a release's source tarball: sets `url` and `sha256` (and so the
# version Homebrew reads from the file name).
#   sh packaging/homebrew/update.sh URL TARBALL [FORMULA]
set -eu
URL=$1
TARBALL=$2
FORMULA=${3:-$(dirname "$0")/librechat.rb}
if command -v sha256sum >/dev/null 2>&1; then
  SUM=$(sha256sum "$TARBALL" | cut -d' ' -f1)
else
  SUM=$(shasum -a 256 "$TARBALL" | cut -d' ' -f1)   # macOS
fi
# Written through a temporary file (BSD and GNU sed differ on -i); `&` and `|` in the URL are
# escaped for sed.
SAFE_URL=$(printf '%s' "$URL" | sed 's/[&|\\]/\\&/g')
sed -e "s|^  url \".*\"|  url \"$SAFE_URL\"|" -e "s|^  sha256 \".*\"|  sha256 \"$SUM\"|" \
  "$FORMULA" > "$FORMULA.new"
mv "$FORMULA.new" "$FORMULA"
