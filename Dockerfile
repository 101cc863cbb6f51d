# syntax=docker/dockerfile:1
# One image for every Tributary service. Which service runs is chosen by the compose `command`
# (a path to a main.ts), or, when none is given, by the SERVICE build arg:
#   docker build -t tributary:dev .                          -> runs services/ledger-projector/src/main.ts
#   docker build --build-arg SERVICE=gateway -t tributary-gateway .
#   docker run tributary:dev services/<name>/src/main.ts     -> runs that service instead
# Services run from TypeScript source through ts-node (transpile only) and tsconfig-paths, as `npm start` does.

ARG NODE_IMAGE=node:20-bookworm-slim

# --- deps: node_modules from the lockfile only, so source edits keep this layer cached --------------
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Dev dependencies are needed at run time (ts-node, tsconfig-paths, typescript). No install scripts, as
# .npmrc explains: none of Tributary's dependencies needs one.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --include=dev --ignore-scripts --no-audit --no-fund

# --- runtime ------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ARG SERVICE=ledger-projector
ENV NODE_ENV=production \
    TRIBUTARY_SERVICE=${SERVICE} \
    # Services bind 127.0.0.1 unless told otherwise; in a container they must listen on every interface.
    HTTP_HOST=0.0.0.0
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node package.json package-lock.json tsconfig.json ./
COPY --chown=node:node libs ./libs
COPY --chown=node:node schemas ./schemas
COPY --chown=node:node services ./services
USER node
# exec keeps node as PID 1's direct replacement, so SIGTERM from `docker stop` reaches Nest's shutdown hooks.
ENTRYPOINT ["/bin/sh", "-c", "exec node -r ts-node/register/transpile-only -r tsconfig-paths/register \"${1:-services/$TRIBUTARY_SERVICE/src/main.ts}\"", "tributary"]
CMD []
