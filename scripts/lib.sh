# Shared by scripts/services.sh and the image scripts it runs (sourced, not executed).

log() { printf '[services] %s\n' "$*" >&2; }

# Installs Debian packages, running apt-get update once per script run.
APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "missing packages ($*) and no apt-get: install them by hand"
    exit 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "installing: $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
