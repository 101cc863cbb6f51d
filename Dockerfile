# syntax=docker/dockerfile:1
# One image for every Tributary service, running the compiled JavaScript (`npm run build`) with production
# dependencies only, as the image's unprivileged `node` user (uid 1000). Which service runs is the command:
#   docker build -t tributary:dev .
#   docker run tributary:dev                                                  -> the ledger projector (the default)
#   docker run -e HEALTH_PORT=3100 tributary:dev node dist/services/gateway/src/main.js
# docker-compose.yml and deploy/kubernetes/services.yaml give each service its command the same way.

ARG NODE_IMAGE=node:24-bookworm-slim

# --- build: every dependency, then the compiler over libs/ and services/ into dist/ ----------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# No install scripts, as .npmrc explains: none of Tributary's dependencies needs one.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY libs ./libs
COPY services ./services
RUN npm run build

# --- prod-deps: node_modules without dev dependencies, from the lockfile only (cached across source edits) ------
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# --- runtime: the compiled services, the files they read at run time, production node_modules ------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    # Services bind 127.0.0.1 unless told otherwise; in a container they must listen on every interface.
    HTTP_HOST=0.0.0.0 \
    # The port the health check asks: the default command's (LEDGER_PROJECTOR_HTTP_PORT's default). Another
    # service's container sets it to that service's port, as docker-compose.yml does.
    HEALTH_PORT=3102
WORKDIR /app
# Root owns every file and the `node` user only reads them: a service writes nothing into /app (Kubernetes runs it
# with a read-only root filesystem).
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist/libs ./dist/libs
COPY --from=build /app/dist/services ./dist/services
# Read at run time from its source path (services/ledger-api/src/app.ts): the dashboard's static files.
COPY services/ledger-api/dashboard ./services/ledger-api/dashboard
USER node
# Asks this container's service for /health/ready (libs/observability/src/healthcheck.ts); compose uses the same.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=6 \
    CMD ["node", "/app/dist/libs/observability/src/healthcheck.js"]
# Exec form: the node image's entrypoint execs this command, so node is PID 1 and `docker stop`'s SIGTERM reaches
# Nest's shutdown hooks.
CMD ["node", "dist/services/ledger-projector/src/main.js"]
