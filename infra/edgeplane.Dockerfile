# The image docker-compose.yml runs edgeplane from: Node 20, nginx (the gateway `edgeplane up`
# starts) and the repository with its locked dependencies. Postgres, Redis, the registries and the
# Docker engine are other services (EDGEPLANE_SERVICES=external); the docker CLI and busybox are here
# to publish the README walkthrough's sample image to the primary, as scripts/services.sh does.
FROM node:20-bookworm-slim
RUN apt-get update \
  && apt-get install -y --no-install-recommends nginx-light ca-certificates curl busybox-static docker.io \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund
CMD ["npm", "start"]
