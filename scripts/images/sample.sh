#!/usr/bin/env bash
# Publishes the README walkthrough's sample image, 127.0.0.1:5001/acme/web:sha-1, to the local
# primary registry: a busybox httpd serving one page on port 8080, built from Debian's
# busybox-static with no pulls (`docker import` of a rootfs, like the test base image). Idempotent:
# a registry that already has the tag is left alone. Run by scripts/services.sh once the registry
# answers; safe to run by hand.
set -euo pipefail

REGISTRY=127.0.0.1:${EDGEPLANE_PRIMARY_REGISTRY_PORT:-5001}
REPOSITORY=acme/web
TAG=sha-1
IMAGE=$REGISTRY/$REPOSITORY:$TAG

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# HEAD of the manifest, in every format the registry may hold it in (without an Accept header,
# distribution answers an image index or an OCI manifest with 404)
ACCEPT=application/vnd.oci.image.manifest.v1+json,application/vnd.oci.image.index.v1+json
ACCEPT=$ACCEPT,application/vnd.docker.distribution.manifest.v2+json,application/vnd.docker.distribution.manifest.list.v2+json
if curl -fsS -o /dev/null -I -H "Accept: $ACCEPT" "http://$REGISTRY/v2/$REPOSITORY/manifests/$TAG" 2>/dev/null; then
  exit 0
fi

log "publishing the sample image $IMAGE"
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs/bin" "$rootfs/www"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in sh httpd kill; do ln -s busybox "$rootfs/bin/$applet"; done
# PID 1 gets no default action for SIGTERM: pass docker stop's on to httpd, so a stop takes no time
cat >"$rootfs/bin/serve" <<'SH'
#!/bin/sh
httpd -f -p 8080 -h /www &
trap 'kill $!; exit 0' TERM INT
wait
SH
chmod 755 "$rootfs/bin/serve"
cat >"$rootfs/www/index.html" <<'HTML'
<!doctype html>
<title>acme/web</title>
<h1>Hello from acme/web sha-1</h1>
<p>Deployed by edgeplane.</p>
HTML
tar -C "$rootfs" -c . | docker import \
  --change 'CMD ["/bin/serve"]' --change 'EXPOSE 8080' \
  - "$IMAGE" >/dev/null
docker push "$IMAGE" >/dev/null
# only the registry keeps it: a deploy then pulls it through the edge, as it would from ghcr.io
docker image rm "$IMAGE" >/dev/null
