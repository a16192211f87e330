#!/usr/bin/env bash
# Run a command against PostgreSQL. With DATABASE_URL already pointing at PostgreSQL, just run it;
# otherwise start a throwaway cluster (initdb + pg_ctl in a temporary folder, loopback only),
# export its DATABASE_URL, run the command and remove the cluster afterwards. The throwaway cluster
# skips fsync for speed; PG_DURABLE=true keeps PostgreSQL's durable defaults (for benchmarks).
set -euo pipefail
if [[ "${DATABASE_URL:-}" == postgres* ]]; then exec "$@"; fi

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
if [[ -z "$bindir" ]]; then
  echo "PostgreSQL is not installed (apt-get install postgresql), and no DATABASE_URL was given." >&2
  exit 1
fi
workdir="$(mktemp -d /tmp/synkro-pg.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
as_owner=()
if [[ "$(id -u)" == 0 ]]; then
  # initdb refuses to run as root: the cluster belongs to the postgres system user.
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$workdir" postgres
  chown postgres "$workdir"
  as_owner=(runuser -u postgres --)
fi
cleanup() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap cleanup EXIT
"${as_owner[@]}" "$bindir/initdb" -D "$workdir/data" -U synkro --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
options="-c listen_addresses=127.0.0.1 -p $port -k $workdir -c max_connections=200"
if [[ "${PG_DURABLE:-false}" != true ]]; then
  options="$options -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
fi
"${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -o "$options" start >/dev/null
export DATABASE_URL="postgres://synkro@127.0.0.1:$port/postgres"
"$@"
