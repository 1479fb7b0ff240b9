# syntax=docker/dockerfile:1
#
# One image for every cloud-platform process. The command picks the process:
#   docker run IMAGE            # serve: REST API on port 8000
#   docker run IMAGE worker --queues billing --concurrency 2
#   docker run IMAGE beat | monitor --port 5555 | migrate | doctor
# docker-compose.yml runs the whole distributed shape; see docs/production.md.

ARG NODE_IMAGE=node:20-bookworm-slim

# Build stage: every dependency, then the TypeScript build into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The prepare script would build before the sources are copied, so scripts
# are skipped here and the build runs below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only. No production dependency needs an install
# script, and skipping them also skips prepare, which needs TypeScript.
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE}
# HOST=0.0.0.0 so that the API and the monitor answer on the container's
# network interface, not only on its loopback.
#
# TZ is left unset, so the container runs in UTC. Billing days follow
# BILLING_TIMEZONE (default Asia/Shanghai), which the product applies itself
# with the time zone data built into Node.js. TZ changes neither billing nor
# the logs, whose `time` field is Unix milliseconds.
#
# DATA_DIR is used only by the embedded shape (`start` without DATABASE_URL);
# mount a volume there to keep its PGlite database.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/var/lib/cloud-platform
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# package.json marks dist/ as ES modules ("type": "module").
COPY package.json ./
RUN mkdir -p /var/lib/cloud-platform && chown node:node /var/lib/cloud-platform

# The node user (uid 1000) of the official Node.js image.
USER node
EXPOSE 8000 5555

# Checks the API of `serve` through its public OpenAPI document. Processes
# without HTTP (worker, beat, migrate) need the check turned off, as
# docker-compose.yml does.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 8000}/api/schema/`).then((response) => process.exit(response.ok ? 0 : 1), () => process.exit(1))"]

# Docker stops a container with SIGTERM, on which every process finishes its
# current work before it exits (stop_grace_period in docker-compose.yml).
# A 32 MiB young-generation semi-space cuts garbage collection of serve
# under load (docs/production.md, API processes). The young generation grows
# to it only under allocation pressure, so the other processes keep it too.
ENTRYPOINT ["node", "--max-semi-space-size=32", "dist/cli/main.js"]
CMD ["serve"]
