#!/usr/bin/env bash
# Start the demo over: Synkro's embedded database and the sandboxes' data in var/ are removed, so the next
# `make run` seeds both again. With DATABASE_URL set, that database is emptied instead (never a production one:
# it refuses unless the sandboxes are enabled).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f var/synkro.pid ] && kill -0 "$(cat var/synkro.pid)" 2>/dev/null; then
  echo "Synkro is running from this folder (process $(cat var/synkro.pid)); stop it first (Ctrl-C)." >&2
  exit 1
fi
if [ -n "${DATABASE_URL:-}" ]; then
  case "${SANDBOX_ENABLED:-true}" in
    true|True|TRUE|1|yes|on) DEBUG="${DEBUG:-true}" .venv/bin/python manage.py flush --noinput ;;
    *) echo "SANDBOX_ENABLED is off: this is not a demo database, so it is left alone." >&2; exit 1 ;;
  esac
else
  rm -f var/synkro.sqlite3 var/synkro.sqlite3-* var/synkro.sqlite3.*
fi
rm -rf "${SANDBOX_STATE_DIR:-var/sandboxes}"
echo "The demo starts over on the next \`make run\`."
