#!/usr/bin/env bash
# Start the whole product on the embedded default: web server + two qcluster workers (bulk and live) + the Fortnox
# listener + sandboxes. Ctrl-C stops all of them cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DEBUG="${DEBUG:-true}" SANDBOX_ENABLED="${SANDBOX_ENABLED:-true}"
HOST="${HOST:-127.0.0.1}" PORT="${PORT:-8000}"
export PUBLIC_BASE_URL="${PUBLIC_BASE_URL:-http://$HOST:$PORT}"
# The Fortnox sandbox serves its change stream (WebSocket) here; the listener finds it through the same variable.
export FORTNOX_SANDBOX_STREAM_PORT="${FORTNOX_SANDBOX_STREAM_PORT:-8765}"

# Before anything starts: a port someone else holds is said at once, in one line, with a non-zero exit.
# The socket is bound the way the servers bind theirs (SO_REUSEADDR), so a port merely in TIME_WAIT is free.
port_free() {
  $PY -c 'import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
with socket.socket(family, kind, proto) as probe:
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind(address)
    except OSError:
        sys.exit(1)' "$1" "$2"
}
if ! port_free "$HOST" "$PORT"; then
  echo "Port $PORT on $HOST is already in use; set PORT=… to use another." >&2
  exit 1
fi
case "$SANDBOX_ENABLED" in
  true|True|TRUE|1|yes|on)
    if ! port_free 127.0.0.1 "$FORTNOX_SANDBOX_STREAM_PORT"; then
      echo "Port $FORTNOX_SANDBOX_STREAM_PORT on 127.0.0.1 (the Fortnox sandbox's change stream) is already in use;" \
           "set FORTNOX_SANDBOX_STREAM_PORT=… to use another." >&2
      exit 1
    fi ;;
esac

mkdir -p var
if [ -f var/synkro.pid ] && kill -0 "$(cat var/synkro.pid)" 2>/dev/null; then
  echo "Synkro is already running from this folder (process $(cat var/synkro.pid)); stop it first." >&2
  exit 1
fi
echo $$ > var/synkro.pid
# The demo vendors keep their data beside Synkro's, one SQLite file each, so a restart changes nothing there.
export SANDBOX_STATE_DIR="${SANDBOX_STATE_DIR:-var/sandboxes}"
# A new Synkro database beside kept vendors would link nothing to their records and import them all again as
# strangers: with the embedded database, a first start starts the vendors over too.
if [ -z "${DATABASE_URL:-}" ] && [ ! -s var/synkro.sqlite3 ]; then rm -rf "$SANDBOX_STATE_DIR"; fi
$PY manage.py migrate --noinput
$PY manage.py demo_setup

pids=()
workers=()
# A process and everything it started (a qcluster's sentinel, pusher, monitor and workers).
kill_tree() {
  local child
  for child in $(pgrep -P "$2" 2>/dev/null); do kill_tree "$1" "$child"; done
  kill "-$1" "$2" 2>/dev/null || true
}
alive() {
  local pid
  for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping Synkro…"
  local pid
  # The workers stop first, while the sandboxes (served by the web server) still answer the task they finish.
  # Ctrl-C has reached them already (a second signal while they stop makes them print a traceback); otherwise
  # they are asked now. Whatever is still running after 10 s is stopped hard: its events are taken up again.
  if [ "${1:-}" != INT ]; then for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; fi
  for _ in $(seq 1 40); do alive "${workers[@]}" || break; sleep 0.25; done
  if alive "${workers[@]}"; then
    for pid in "${workers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 1 20); do alive "${workers[@]}" || break; sleep 0.25; done
    for pid in "${workers[@]}"; do kill_tree KILL "$pid"; done
  fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f var/synkro.pid
  echo "Stopped."
}
trap 'stop INT' INT
trap stop TERM EXIT

# Two queues: bulk work (imports, reconciliations, the schedules) and live work (webhook and stream notices,
# retries, recovery), each with its own workers, so a live change never waits behind an import.
$PY manage.py qcluster &
workers+=($!)
Q_CLUSTER_NAME=synkro-live $PY manage.py qcluster &
workers+=($!)
$PY manage.py runserver "$HOST:$PORT" --noreload &
web=$!
pids+=("$web")
# The demo sandboxes live in the web server's memory: once it answers, point their webhooks at Synkro.
answered=false
for _ in $(seq 1 60); do
  kill -0 "$web" 2>/dev/null || break  # the web server has exited: it will not answer
  if $PY -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
       "$PUBLIC_BASE_URL/accounts/login/" 2>/dev/null; then
    answered=true
    $PY manage.py webhooks_register --tenant demo || echo "Webhooks could not be registered; see above."
    # Fortnox's changes within a second (its WebSocket stream, served by the demo's Fortnox once the web server
    # answers); polling every minute stays the safety net.
    $PY manage.py fortnox_listen &
    pids+=($!)
    break
  fi
  sleep 0.5
done
if [ "$answered" != true ]; then
  echo "Synkro did not start: the web server on $HOST:$PORT did not answer (see above)." >&2
  exit 1  # the EXIT trap stops the worker and anything else started
fi
echo "Synkro is running at $PUBLIC_BASE_URL (Ctrl-C to stop)"
wait -n "${pids[@]}"
