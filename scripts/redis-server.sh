#!/usr/bin/env bash
# A throwaway redis-server for the tests: loopback only, a free port, no persistence.
#
#   scripts/redis-server.sh start DIR   installs redis-server if missing (apt-get), starts it with
#                                       its pid in DIR/redis.pid and its port in DIR/redis.port,
#                                       waits until it answers PING, prints redis://127.0.0.1:PORT
#   scripts/redis-server.sh stop DIR    stops the server started in DIR (no error if none)
#
# Quiet on success: the URL is the only output of `start`. Errors go to stderr with the end of
# the server's log.
set -euo pipefail

die() {
  echo "redis-server.sh: $*" >&2
  exit 1
}

usage() {
  die "usage: $0 start|stop DIR"
}

# Runs a command as root: directly, or through sudo when we are not root.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "redis-server is not installed and this user cannot install it (not root, no sudo)"
  fi
}

install_redis() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || die "redis-server is not installed and apt-get is not available"
  local log
  log="$(mktemp)"
  # The package's own service is not wanted; tolerate it being started anyway (it listens on the
  # default port, never on the one chosen below).
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >"$log" 2>&1; then
    if ! { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$log" 2>&1; then
      tail -n 20 "$log" >&2 || true
      rm -f "$log"
      die "could not install redis-server with apt-get"
    fi
  fi
  rm -f "$log"
  command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after installing it"
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli still not on PATH after installing redis-server"
}

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
  else
    echo $((20000 + RANDOM % 30000))
  fi
}

pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null
}

start() {
  local dir="$1"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [ -f "$dir/redis.pid" ] && pid_alive "$(cat "$dir/redis.pid" 2>/dev/null || true)"; then
    die "a redis-server started in $dir is still running (pid $(cat "$dir/redis.pid")); stop it first"
  fi
  rm -f "$dir/redis.pid" "$dir/redis.port"
  install_redis

  local attempt port i
  for attempt in 1 2 3 4 5; do
    port="$(free_port)"
    : >"$dir/redis.log"
    # With --daemonize the command returns once the server has forked: a failure here is a
    # bad configuration, not a busy port.
    if ! redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
      --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir" \
      </dev/null >>"$dir/redis.log" 2>&1; then
      tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
      die "redis-server failed to start"
    fi
    # Up to ~10 s for PONG.
    for i in $(seq 1 100); do
      if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)" = "PONG" ]; then
        echo "$port" >"$dir/redis.port"
        echo "redis://127.0.0.1:$port"
        return 0
      fi
      # The port was taken between choosing and binding: the daemon is gone, try another one.
      if grep -q -i "address already in use" "$dir/redis.log" 2>/dev/null; then
        break
      fi
      sleep 0.1
    done
    stop "$dir" 2>/dev/null || true
    if ! grep -q -i "address already in use" "$dir/redis.log" 2>/dev/null; then
      break
    fi
    [ "$attempt" -lt 5 ] || break
  done
  tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
  die "redis-server did not answer PING on 127.0.0.1:$port"
}

stop() {
  local dir="$1" pid i
  [ -f "$dir/redis.pid" ] || return 0
  pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
  if pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$dir/redis.pid" "$dir/redis.port"
}

[ $# -eq 2 ] || usage
case "$1" in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
