#!/usr/bin/env bash
# Builds edgeplane-test/pgapp:1, a test image for a three-part app (web -> api -> PostgreSQL), with
# no container registry at all: a Debian bookworm rootfs from debootstrap (minbase, plus
# postgresql-15 and busybox-static), shrunk, then `docker import`ed. Idempotent: an image already
# there is left alone (remove it to rebuild). Run by scripts/services.sh; safe to run by hand.
#
# The one image plays every part; pick one by command (each in /usr/local/bin, POSIX sh):
#   pg-run    PostgreSQL 15 in the foreground on 0.0.0.0:5432, data in $PGDATA
#             (default /var/lib/postgresql/data; initdb on first start). TEST ONLY: every
#             connection is trusted, without a password, from any address.
#   pg-ready  exit 0 iff the local server accepts connections (healthcheck ["CMD", "pg-ready"])
#   seed      waits (30 s at most) for $DB_HOST (default db), creates table items and inserts every
#             comma-separated word of $SEED_ROWS ([a-z0-9-] only), as user postgres, db postgres
#   api-run   HTTP on ${PORT:-8080}: /healthz -> ok; /cgi-bin/rows -> the names in items by id,
#             joined with commas (500 if the query fails); database at $DB_HOST (default db)
#   web-run   HTTP on ${PORT:-8080}: /healthz -> ok; / -> "web ${WEB_MESSAGE:-web}" and
#             "rows: <$API_URL/cgi-bin/rows>" (API_URL default http://api:8080; 502 if that fails);
#             /cgi-bin/env -> EDGEPLANE_URL, EDGEPLANE_URL_API, API_URL, EDGEPLANE_ENVIRONMENT as set
#             at start
# The run scripts stay PID 1 and run the server as a child: they forward SIGTERM/SIGINT (SIGINT,
# a fast shutdown, to PostgreSQL; SIGTERM to busybox httpd, which as PID 1 would ignore it), so
# `docker stop` takes well under a second.
set -euo pipefail

IMAGE=${EDGEPLANE_TEST_PGAPP_IMAGE:-edgeplane-test/pgapp:1}
SUITE=bookworm
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then exit 0; fi

need=()
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
command -v wget >/dev/null 2>&1 || need+=(wget)
[ -e /usr/share/keyrings/debian-archive-keyring.gpg ] || need+=(debian-archive-keyring)
if [ ${#need[@]} -gt 0 ]; then apt_install "${need[@]}"; fi

# The first Debian mirror apt is configured with (one-line or deb822 sources), else deb.debian.org.
debian_mirror() {
  local files=() f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk '
    /^[ \t]*#/ { next }
    $1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }
    $1 == "URIs:" { for (i = 2; i <= NF; i++) print $i }
  ' "${files[@]}" | grep -E '^https?://[^ ]+/debian/?$' | head -n 1 || true
}
MIRROR=$(debian_mirror)
MIRROR=${MIRROR:-http://deb.debian.org/debian}

log "building $IMAGE (debootstrap, a few minutes)"
started=$(date +%s)

work=$(mktemp -d /tmp/edgeplane-pgapp.XXXXXX)
# Unmounts whatever debootstrap may have left mounted in the rootfs (proc, sys, bind-mounted
# devices: deepest first), then removes the build directory without ever crossing a mount point.
cleanup() {
  local m
  [ -n "${work:-}" ] && [ -d "$work" ] || return 0
  awk -v d="$work" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
rootfs=$work/rootfs

if ! LC_ALL=C LANG=C DEBIAN_FRONTEND=noninteractive debootstrap --variant=minbase \
  --include="postgresql-$PG_MAJOR,busybox-static" "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
  log "debootstrap failed ($MIRROR); its log ends with:"
  tail -n 30 "$work/debootstrap.log" >&2
  [ -f "$rootfs/debootstrap/debootstrap.log" ] && tail -n 30 "$rootfs/debootstrap/debootstrap.log" >&2
  exit 1
fi
for f in "$PG_BIN/postgres" "$PG_BIN/initdb" "$PG_BIN/psql" "$PG_BIN/pg_isready" /usr/bin/setpriv /bin/busybox; do
  [ -x "$rootfs$f" ] || { log "the rootfs has no $f"; exit 1; }
done

# ---- shrink ----------------------------------------------------------------------------------
# nothing leaves here for the image but what the parts above run: no docs, man pages, translations
# (C and C.UTF-8 stay, in /usr/lib/locale), apt lists or package caches, and not the cluster
# postgresql-common creates on install (pg-run makes its own in $PGDATA), nor its snakeoil key.
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/usr/share/i18n "$rootfs"/usr/share/lintian \
  "$rootfs"/usr/share/bug "$rootfs"/usr/share/postgresql/"$PG_MAJOR"/man \
  "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
  "$rootfs"/var/lib/dpkg/*-old "$rootfs"/var/log/* "$rootfs"/tmp/* "$rootfs"/var/tmp/* \
  "$rootfs"/var/lib/postgresql/"$PG_MAJOR" "$rootfs"/etc/postgresql/"$PG_MAJOR" \
  "$rootfs"/etc/ssl/private/ssl-cert-snakeoil.key "$rootfs"/etc/ssl/certs/ssl-cert-snakeoil.pem \
  "$rootfs"/debootstrap
# PostgreSQL's JIT (llvmjit.so, its bitcode, LLVM and Z3: 160 MB of the image's 350) is no use for
# test queries; without the provider the server quietly runs without JIT (and pg-run sets jit = off)
rm -rf "$rootfs/usr/lib/postgresql/$PG_MAJOR/lib/bitcode" "$rootfs/usr/lib/postgresql/$PG_MAJOR/lib"/llvmjit* \
  "$rootfs"/usr/lib/*-linux-gnu/libLLVM-* "$rootfs"/usr/lib/*-linux-gnu/libz3.so*
find "$rootfs/usr/lib/locale" -mindepth 1 -maxdepth 1 ! -name 'C.utf8' ! -name 'C.UTF-8' -exec rm -rf {} +
# /dev comes from Docker; the host's resolv.conf and hostname have no business in the image
find "$rootfs/dev" -mindepth 1 -delete
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/machine-id"
printf 'pgapp\n' >"$rootfs/etc/hostname"

# ---- the parts -------------------------------------------------------------------------------
mkdir -p "$rootfs/usr/local/bin" "$rootfs/usr/local/lib/pgapp" \
  "$rootfs/usr/local/share/pgapp/api/cgi-bin" "$rootfs/usr/local/share/pgapp/web/cgi-bin"

cat >"$rootfs/usr/local/lib/pgapp/supervise.sh" <<'SH'
# sourced by the run scripts. supervise SIGNAL COMMAND...: runs COMMAND as a child of this shell
# (which stays PID 1), sends it SIGNAL when the shell gets SIGTERM or SIGINT, and returns its exit
# status. A server exec'ed as PID 1 gets no default signal action (busybox httpd would ignore
# docker stop's SIGTERM until the SIGKILL), and PostgreSQL takes SIGTERM for a smart shutdown,
# which waits for every client to leave: SIGINT is its fast one.
supervise() {
  _sig=$1
  shift
  "$@" &
  _child=$!
  _stopping=
  trap '_stopping=1; kill -s "$_sig" "$_child" 2>/dev/null' TERM INT
  set +e
  while :; do
    wait "$_child"
    _rc=$?
    # wait returns early (>128) when a trapped signal arrives; the child may still be running
    kill -0 "$_child" 2>/dev/null || break
  done
  # stopped as asked (a server killed by the signal passed on to it): a clean exit
  if [ -n "$_stopping" ] && [ "$_rc" -gt 128 ]; then _rc=0; fi
  return "$_rc"
}
SH

cat >"$rootfs/usr/local/bin/pg-run" <<SH
#!/bin/sh
# pg-run: PostgreSQL $PG_MAJOR in the foreground on 0.0.0.0:5432, data in \$PGDATA (initdb on the
# first start; an existing cluster is kept as it is). Started as root, it readies \$PGDATA and
# /run/postgresql, then runs itself again as user postgres (setpriv); started as another user, it
# has to own \$PGDATA. Needs no capability beyond CHOWN, SETUID and SETGID.
# Everything from initdb on, this shell (PID 1) included, runs as postgres: without CAP_KILL, a
# root PID 1 could not pass docker stop's signal on to a postgres-owned server.
# TEST IMAGE ONLY: authentication is trust -- any client, from any address, can connect as any
# user without a password. Never use this for anything but throwaway test data.
set -eu
PATH=$PG_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
PGDATA=\${PGDATA:-/var/lib/postgresql/data}
export PATH PGDATA
cd /
if [ "\$(id -u)" = 0 ]; then
  mkdir -p "\$PGDATA" /run/postgresql
  chown postgres:postgres "\$PGDATA" /run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups \
    env HOME=/var/lib/postgresql USER=postgres LOGNAME=postgres /usr/local/bin/pg-run "\$@"
fi
mkdir -p "\$PGDATA"
chmod 700 "\$PGDATA"
if [ ! -s "\$PGDATA/PG_VERSION" ]; then
  echo "pg-run: initializing a cluster in \$PGDATA"
  initdb -D "\$PGDATA" -U postgres --auth=trust --encoding=UTF8 --no-locale
  # test image: trust every user from every address (see above)
  printf '%s\n' 'host all all 0.0.0.0/0 trust' 'host all all ::/0 trust' >>"\$PGDATA/pg_hba.conf"
  printf '%s\n' "listen_addresses = '*'" 'jit = off' >>"\$PGDATA/postgresql.conf"
fi
. /usr/local/lib/pgapp/supervise.sh
supervise INT postgres -D "\$PGDATA"
SH

cat >"$rootfs/usr/local/bin/pg-ready" <<SH
#!/bin/sh
# pg-ready: exit 0 iff the PostgreSQL server in this container accepts connections
exec $PG_BIN/pg_isready -h 127.0.0.1 -U postgres -d postgres -q
SH

cat >"$rootfs/usr/local/bin/seed" <<SH
#!/bin/sh
# seed: waits (30 s at most) for PostgreSQL at \$DB_HOST (default db), then, as user postgres in
# database postgres, creates table items (if missing) and inserts each comma-separated word of
# \$SEED_ROWS (letters a-z, digits and '-' only; anything else is refused, nothing is written).
# Running it again inserts nothing twice. Exit 0 on success.
set -eu
PATH=$PG_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
DB_HOST=\${DB_HOST:-db}
sql='create table if not exists items (id serial primary key, name text not null unique);'
set -f
old_ifs=\$IFS
IFS=,
for word in \${SEED_ROWS:-}; do
  case \$word in
    '') ;;
    *[!a-z0-9-]*) echo "seed: refusing '\$word': only a-z, 0-9 and '-'" >&2; exit 2 ;;
    *) sql="\$sql
insert into items(name) values ('\$word') on conflict do nothing;" ;;
  esac
done
IFS=\$old_ifs
deadline=\$((\$(date +%s) + 30))
until pg_isready -h "\$DB_HOST" -U postgres -d postgres -t 2 -q; do
  if [ "\$(date +%s)" -ge "\$deadline" ]; then
    echo "seed: no database at \$DB_HOST after 30 s" >&2
    exit 1
  fi
  sleep 1
done
printf '%s\n' "\$sql" | PGCONNECT_TIMEOUT=10 PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "\$DB_HOST" -U postgres -d postgres -f -
echo "seed: done (\${SEED_ROWS:-no rows})"
SH

cat >"$rootfs/usr/local/bin/api-run" <<'SH'
#!/bin/sh
# api-run: HTTP on 0.0.0.0:${PORT:-8080} (busybox httpd): GET /healthz -> ok; GET /cgi-bin/rows ->
# the names in table items, by id, joined with commas on one line (500 if the query fails), from
# PostgreSQL at $DB_HOST (default db) as user postgres. The CGI script reads DB_HOST from
# /tmp/pgapp/api.db_host, written here at start: it does not count on httpd passing the environment
# on (busybox 1.35 does, other versions and builds need not).
set -eu
PORT=${PORT:-8080}
case $PORT in '' | *[!0-9]*) echo "api-run: PORT must be a number, not '$PORT'" >&2; exit 2 ;; esac
. /usr/local/lib/pgapp/supervise.sh
mkdir -p /tmp/pgapp
printf '%s\n' "${DB_HOST:-db}" >/tmp/pgapp/api.db_host
echo "api-run: listening on 0.0.0.0:$PORT, database at ${DB_HOST:-db}"
supervise TERM busybox httpd -f -p "0.0.0.0:$PORT" -h /usr/local/share/pgapp/api
SH

cat >"$rootfs/usr/local/bin/web-run" <<'SH'
#!/bin/sh
# web-run: HTTP on 0.0.0.0:${PORT:-8080} (busybox httpd): GET /healthz -> ok; GET / -> two lines,
# "web ${WEB_MESSAGE:-web}" and "rows: <body of $API_URL/cgi-bin/rows>" (API_URL default
# http://api:8080; a 502 when that fails); GET /cgi-bin/env -> EDGEPLANE_URL, EDGEPLANE_URL_API,
# API_URL and EDGEPLANE_ENVIRONMENT as the environment had them at start (empty if unset).
# The values are recorded under /tmp/pgapp at start and the CGI scripts read them there: they do not
# count on httpd passing the environment on (busybox 1.35 does, other versions and builds need not).
set -eu
PORT=${PORT:-8080}
case $PORT in '' | *[!0-9]*) echo "web-run: PORT must be a number, not '$PORT'" >&2; exit 2 ;; esac
. /usr/local/lib/pgapp/supervise.sh
mkdir -p /tmp/pgapp
printf '%s\n' "${WEB_MESSAGE:-web}" >/tmp/pgapp/web.message
printf '%s\n' "${API_URL:-http://api:8080}" >/tmp/pgapp/web.api_url
printf 'EDGEPLANE_URL=%s\nEDGEPLANE_URL_API=%s\nAPI_URL=%s\nEDGEPLANE_ENVIRONMENT=%s\n' \
  "${EDGEPLANE_URL-}" "${EDGEPLANE_URL_API-}" "${API_URL-}" "${EDGEPLANE_ENVIRONMENT-}" >/tmp/pgapp/web.env
echo "web-run: listening on 0.0.0.0:$PORT, api at ${API_URL:-http://api:8080}"
supervise TERM busybox httpd -f -p "0.0.0.0:$PORT" -h /usr/local/share/pgapp/web
SH

# the CGI scripts (busybox httpd runs /cgi-bin/index.cgi for / when there is no index.html)
cat >"$rootfs/usr/local/share/pgapp/api/cgi-bin/rows" <<SH
#!/bin/sh
# GET /cgi-bin/rows: the names in items by id, joined with commas; psql's error goes to the log
PATH=$PG_BIN:/usr/sbin:/usr/bin:/sbin:/bin
DB_HOST=
[ -r /tmp/pgapp/api.db_host ] && read -r DB_HOST </tmp/pgapp/api.db_host
DB_HOST=\${DB_HOST:-db}
if rows=\$(PGCONNECT_TIMEOUT=5 psql -X -h "\$DB_HOST" -U postgres -d postgres -Atc 'select name from items order by id'); then
  printf 'Content-Type: text/plain\r\n\r\n%s\n' "\$(printf '%s' "\$rows" | tr '\n' ,)"
else
  printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nquery failed (database at %s)\n' "\$DB_HOST"
fi
SH

cat >"$rootfs/usr/local/share/pgapp/web/cgi-bin/index.cgi" <<'SH'
#!/bin/sh
# GET /: "web <WEB_MESSAGE>" and "rows: <the api's /cgi-bin/rows>"
PATH=/usr/sbin:/usr/bin:/sbin:/bin
message=web
api=http://api:8080
[ -r /tmp/pgapp/web.message ] && read -r message </tmp/pgapp/web.message
[ -r /tmp/pgapp/web.api_url ] && read -r api </tmp/pgapp/web.api_url
# the time limit is coreutils' timeout: Debian's busybox-static 1.35 wget segfaults on -T
if rows=$(timeout 5 busybox wget -qO- "${api%/}/cgi-bin/rows"); then
  printf 'Content-Type: text/plain\r\n\r\nweb %s\nrows: %s\n' "$message" "$rows"
else
  echo "web: GET ${api%/}/cgi-bin/rows failed" >&2
  printf 'Status: 502 Bad Gateway\r\nContent-Type: text/plain\r\n\r\nweb %s\nrows: unavailable (%s)\n' "$message" "$api"
fi
SH

cat >"$rootfs/usr/local/share/pgapp/web/cgi-bin/env" <<'SH'
#!/bin/sh
# GET /cgi-bin/env: the EDGEPLANE_URL, EDGEPLANE_URL_API, API_URL, EDGEPLANE_ENVIRONMENT web-run saw
if [ -r /tmp/pgapp/web.env ]; then
  printf 'Content-Type: text/plain\r\n\r\n'
  cat /tmp/pgapp/web.env
else
  printf 'Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\nno environment recorded\n'
fi
SH

echo ok >"$rootfs/usr/local/share/pgapp/api/healthz"
echo ok >"$rootfs/usr/local/share/pgapp/web/healthz"
chmod 755 "$rootfs"/usr/local/bin/* "$rootfs"/usr/local/share/pgapp/*/cgi-bin/*
chmod 644 "$rootfs/usr/local/lib/pgapp/supervise.sh" "$rootfs"/usr/local/share/pgapp/*/healthz

# $PGDATA owned by postgres and 0700 in the image: an empty named volume mounted there copies that
mkdir -p "$rootfs/var/lib/postgresql/data" "$rootfs/run/postgresql"
chroot "$rootfs" chown postgres:postgres /var/lib/postgresql/data /run/postgresql
chmod 700 "$rootfs/var/lib/postgresql/data"
chmod 2775 "$rootfs/run/postgresql"

tar --numeric-owner -C "$rootfs" -c . | docker import \
  --change "ENV PATH=$PG_BIN:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'EXPOSE 5432 8080' \
  --change 'CMD ["pg-run"]' \
  - "$IMAGE" >/dev/null

log "built $IMAGE in $(($(date +%s) - started))s ($(docker image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%d MB", $1 / 1000000 }'))"
