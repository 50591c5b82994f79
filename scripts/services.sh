#!/usr/bin/env bash
# Brings up, idempotently and on loopback only, every local service edgeplane needs:
# PostgreSQL, Redis, Docker Engine, nginx (binary only: the gateway is started by edgeplane),
# a local OCI registry playing the primary registry (ghcr.io), an edge registry caching it
# (pull-through), the locally built test images, and the README walkthrough's sample image
# (127.0.0.1:5001/acme/web:sha-1, pushed to the primary registry).
# Safe to run again and again: whatever already answers is left alone. It only ever stops
# nothing; processes it starts are recorded by pid under the services directory.
# Every daemon it starts runs in a session of its own (setsid): `npm start` runs this script in its
# process group, and Ctrl-C there (SIGINT to the group) must stop edgeplane, never Docker Engine (and
# with it every environment's container), the registries, PostgreSQL or Redis.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_DIR=${EDGEPLANE_SERVICES_DIR:-$ROOT/.edgeplane/services}
PG_PORT=${EDGEPLANE_PG_PORT:-5432}
REDIS_PORT=${EDGEPLANE_REDIS_PORT:-6379}
PRIMARY_REGISTRY_PORT=${EDGEPLANE_PRIMARY_REGISTRY_PORT:-5001}
EDGE_REGISTRY_PORT=${EDGEPLANE_EDGE_REGISTRY_PORT:-5002}
TEST_IMAGE=${EDGEPLANE_TEST_BASE_IMAGE:-edgeplane-test/httpd:base}

mkdir -p "$SERVICES_DIR"
. "$ROOT/scripts/lib.sh"

# docker-compose.yml runs every service in its own container: nothing to check or start here
if [ "${EDGEPLANE_SERVICES:-local}" = external ]; then
  log "EDGEPLANE_SERVICES=external: using the services the environment names"
  # the README's walkthrough deploys the sample image: published to that primary too, when it answers
  if command -v docker >/dev/null 2>&1 && [ -x /bin/busybox ] &&
    curl -fsS -o /dev/null "http://127.0.0.1:${EDGEPLANE_PRIMARY_REGISTRY_PORT:-5001}/v2/" 2>/dev/null; then
    bash "$ROOT/scripts/images/sample.sh" || log "could not publish the sample image"
  fi
  exit 0
fi

# wait_for DESCRIPTION SECONDS COMMAND...
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local i
  for ((i = 0; i < seconds * 4; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  log "$what did not come up within ${seconds}s"
  return 1
}

# ---- packages --------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io iptables)
command -v nginx >/dev/null 2>&1 || need+=(nginx-light)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v pg_isready >/dev/null 2>&1 || need+=(postgresql postgresql-client)
command -v curl >/dev/null 2>&1 || need+=(curl ca-certificates)
# TLS tests: pebble + pebble-challtestsrv (a real ACME server), Knot DNS (RFC 2136 updates), openssl.
# Each test starts its own instances on free loopback ports; nothing runs here.
command -v pebble >/dev/null 2>&1 || need+=(pebble)
command -v knotd >/dev/null 2>&1 || need+=(knot)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# the web console's browser test: Debian's Chromium, driven headless by playwright-core (no browser
# download); fonts-dejavu-core so its screenshots show text whatever else the machine has
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

# ---- PostgreSQL ------------------------------------------------------------------------------
pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }
# pg_hba_rules VERSION FILE: loopback trust for edgeplane's user (postgres, the default of
# DATABASE_URL) and edgeplane's databases only: `edgeplane`, the `edgeplane_*` databases tests create
# per file, and `postgres`, where databases are created and dropped. Replaces the lines an earlier
# run wrote (marked edgeplane-local) and leaves every other line as it was, so running it again
# changes nothing. A name pattern needs PostgreSQL 16 (regular expressions in pg_hba.conf); on older
# versions trust is limited to the user only, which the script says.
pg_hba_rules() {
  local ver=$1 file=$2 databases rules
  if [ "${ver%%.*}" -ge 16 ]; then
    databases='postgres,edgeplane,/^edgeplane_[a-z0-9_]+$'
  else
    databases=all
    log "PostgreSQL $ver: loopback trust is limited to user postgres, not by database (needs PostgreSQL 16)"
  fi
  rules="host $databases postgres 127.0.0.1/32 trust # edgeplane-local
host $databases postgres ::1/128 trust # edgeplane-local"
  { printf '%s\n' "$rules"; grep -v 'edgeplane-local' "$file" || true; } >"$file.edgeplane-tmp"
  if cmp -s "$file" "$file.edgeplane-tmp"; then
    rm -f "$file.edgeplane-tmp"
    return 1
  fi
  chown --reference="$file" "$file.edgeplane-tmp" 2>/dev/null || true
  chmod --reference="$file" "$file.edgeplane-tmp"
  mv "$file.edgeplane-tmp" "$file"
}
pg_conf_dir() {
  command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] || return 1
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  [ -n "$ver" ] && printf '%s %s\n' "$ver" "/etc/postgresql/$ver/main"
}
if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    ver=$(ls /etc/postgresql | sort -V | tail -n 1)
    [ -d "/etc/postgresql/$ver/main" ] || pg_createcluster "$ver" main >/dev/null
    conf=/etc/postgresql/$ver/main
    pg_hba_rules "$ver" "$conf/pg_hba.conf" || true
    log "starting PostgreSQL $ver"
    setsid pg_ctlcluster --skip-systemctl-redirect "$ver" main start </dev/null || true
  fi
  wait_for "PostgreSQL on 127.0.0.1:$PG_PORT" 30 pg_up
elif read -r ver conf < <(pg_conf_dir) && grep -q 'edgeplane-local' "$conf/pg_hba.conf" 2>/dev/null; then
  # a cluster this script set up before: bring its rules up to date, and reload (never restart)
  if pg_hba_rules "$ver" "$conf/pg_hba.conf"; then
    log "PostgreSQL $ver: loopback trust narrowed to edgeplane's user and databases; reloading"
    pg_ctlcluster --skip-systemctl-redirect "$ver" main reload
  fi
fi

# ---- Redis -----------------------------------------------------------------------------------
redis_up() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG; }
if ! redis_up; then
  log "starting Redis on 127.0.0.1:$REDIS_PORT"
  mkdir -p "$SERVICES_DIR/redis"
  setsid redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --dir "$SERVICES_DIR/redis" --logfile "$SERVICES_DIR/redis/redis.log" \
    --pidfile "$SERVICES_DIR/redis/redis.pid"
  wait_for "Redis on 127.0.0.1:$REDIS_PORT" 15 redis_up
fi

# ---- Docker Engine ---------------------------------------------------------------------------
docker_up() { docker info >/dev/null 2>&1; }
if ! docker_up; then
  log "starting dockerd"
  mkdir -p "$SERVICES_DIR/docker"
  # its own session: a Ctrl-C on `npm start` must not stop it (nor the containers it runs)
  setsid nohup dockerd --host unix:///var/run/docker.sock </dev/null >"$SERVICES_DIR/docker/dockerd.log" 2>&1 &
  echo $! >"$SERVICES_DIR/docker/dockerd.pid"
  wait_for "dockerd" 60 docker_up
fi

# ---- primary registry (plays ghcr.io) on loopback --------------------------------------------
registry_up() { curl -fsS "http://127.0.0.1:$1/v2/" >/dev/null 2>&1; }
# start_registry NAME PORT [REMOTE_URL]: with a remote URL, a pull-through cache of that registry
# (which must be up: distribution 2.8 asks it for its auth scheme at boot). Credentials for a
# private remote come from EDGEPLANE_REGISTRY_USERNAME/PASSWORD into an owner-only config file.
start_registry() {
  local name=$1 port=$2 remote=${3:-} dir="$SERVICES_DIR/$1"
  mkdir -p "$dir/data"
  rm -f "$dir/config.yml"
  (umask 077 && cat >"$dir/config.yml") <<YAML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YAML
  if [ -n "$remote" ]; then
    printf 'proxy:\n  remoteurl: %s\n' "$remote" >>"$dir/config.yml"
    if [ -n "${EDGEPLANE_REGISTRY_USERNAME:-}" ]; then
      local q="'"
      printf "  username: '%s'\n  password: '%s'\n" "${EDGEPLANE_REGISTRY_USERNAME//$q/$q$q}" \
        "${EDGEPLANE_REGISTRY_PASSWORD//$q/$q$q}" >>"$dir/config.yml"
    fi
  fi
  log "starting registry '$name' on 127.0.0.1:$port"
  setsid nohup docker-registry serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 &
  echo $! >"$dir/registry.pid"
  wait_for "registry $name" 15 registry_up "$port"
}
registry_up "$PRIMARY_REGISTRY_PORT" || start_registry primary-registry "$PRIMARY_REGISTRY_PORT"
# ---- edge registry: a pull-through cache of the primary, next to the runtime -----------------
registry_up "$EDGE_REGISTRY_PORT" ||
  start_registry edge-registry "$EDGE_REGISTRY_PORT" "http://127.0.0.1:$PRIMARY_REGISTRY_PORT"

# ---- the locally built test image --------------------------------------------------------------
# A busybox httpd that serves $APP_MESSAGE on $PORT: built from Debian's busybox-static, no pulls.
if ! docker image inspect "$TEST_IMAGE" >/dev/null 2>&1; then
  log "building $TEST_IMAGE from busybox-static"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/www" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh httpd echo cat sleep wget; do ln -s busybox "$rootfs/bin/$applet"; done
  cat >"$rootfs/bin/serve" <<'SH'
#!/bin/sh
echo "${APP_MESSAGE:-hello from edgeplane}" > /www/index.html
echo ok > /www/healthz
exec httpd -f -p "${PORT:-8080}" -h /www
SH
  chmod 755 "$rootfs/bin/serve"
  tar -C "$rootfs" -c . | docker import \
    --change 'CMD ["/bin/serve"]' --change 'ENV PORT=8080' --change 'EXPOSE 8080' \
    - "$TEST_IMAGE" >/dev/null
  rm -rf "$rootfs"
fi
bash "$ROOT/scripts/images/pgapp.sh"
bash "$ROOT/scripts/images/sample.sh"

log "ready: postgres 127.0.0.1:$PG_PORT, redis 127.0.0.1:$REDIS_PORT, docker, nginx, registry 127.0.0.1:$PRIMARY_REGISTRY_PORT, edge registry 127.0.0.1:$EDGE_REGISTRY_PORT"
