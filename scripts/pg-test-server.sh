#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests (Debian's postgresql package):
# its own data directory, trust authentication for user "obatch", listening on
# 127.0.0.1 only, on a free port.
#
#   scripts/pg-test-server.sh start DIR   prints the URI (postgresql://obatch@127.0.0.1:PORT/postgres)
#   scripts/pg-test-server.sh stop DIR
#
# As root it runs the server as the postgres user (PostgreSQL refuses root).
# Exit 3 when PostgreSQL is not installed.
set -euo pipefail

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "pg-test-server: PostgreSQL's initdb is not installed (apt-get install postgresql)" >&2
  exit 3
fi
as=()
if [ "$(id -u)" -eq 0 ]; then
  as=(runuser -u postgres --)
fi

case $cmd in
  start)
    mkdir -p "$dir"
    if [ ${#as[@]} -gt 0 ]; then
      chown postgres "$dir"
      "${as[@]}" test -w "$dir" ||
        { echo "pg-test-server: the postgres user cannot reach $dir (a parent folder is private)" >&2; exit 1; }
    fi
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "${as[@]}" "$bindir/initdb" -D "$dir/data" -A trust -U obatch --no-sync >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
    "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null ||
      { cat "$dir/server.log" >&2; exit 1; }
    echo "postgresql://obatch@127.0.0.1:$port/postgres"
    ;;
  stop)
    if [ -d "$dir/data" ]; then
      "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
