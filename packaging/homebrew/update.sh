#!/bin/sh
# Points the formula at a release's source tarball: sets `url` and `sha256` (and so the
# version Homebrew reads from the file name).
#   sh packaging/homebrew/update.sh URL TARBALL [FORMULA]
set -eu
URL=$1
TARBALL=$2
FORMULA=${3:-$(dirname "$0")/librechat.rb}
SUM=$(sha256sum "$TARBALL" | cut -d' ' -f1)
sed -i -e "s|^  url \".*\"|  url \"$URL\"|" -e "s|^  sha256 \".*\"|  sha256 \"$SUM\"|" "$FORMULA"
