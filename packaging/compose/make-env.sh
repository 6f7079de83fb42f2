#!/bin/sh
# Writes .env beside compose.yaml with fresh random secrets, once: the four every replica must
# share (JWT_SECRET, JWT_REFRESH_SECRET, CREDS_KEY, CREDS_IV) and the passwords of PostgreSQL
# and the S3 store. Keep the file: stored API keys cannot be read without CREDS_KEY/CREDS_IV.
set -eu
cd "$(dirname "$0")"
if [ -e .env ]; then
  echo ".env exists already; not replacing it (the replicas' secrets must stay the same)" >&2
  exit 1
fi
hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }
umask 077
cat > .env <<END
JWT_SECRET=$(hex 32)
JWT_REFRESH_SECRET=$(hex 32)
CREDS_KEY=$(hex 32)
CREDS_IV=$(hex 16)
POSTGRES_PASSWORD=$(hex 16)
S3_PASSWORD=$(hex 16)
END
echo "wrote $(pwd)/.env"
