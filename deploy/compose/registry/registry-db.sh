#!/bin/sh
# One-shot, once PostgreSQL is healthy: the schema registry's own database and login role, with no more
# than Apicurio Registry needs (the same shape deploy/registry gives the local one). The role may connect to
# its database only, owns the one schema its tables live in (Apicurio creates and upgrades them at start-up)
# and may create nothing else; PUBLIC may not connect. Safe to run at every `up`.
# The owner's connection: DATABASE_URL when set (Kubernetes, from its Secret), else libpq's PGHOST, PGUSER and
# PGPASSWORD (compose). The registry role's password: REGISTRY_DB_PASSWORD. Used by docker-compose.yml and,
# through a ConfigMap, by deploy/kubernetes/schema-registry.yaml.
set -eu
: "${REGISTRY_DB_PASSWORD:?set REGISTRY_DB_PASSWORD}"

# One session: the database and role from the owner's database, then \connect (same server, same owner) to
# the registry's database for its schema. The password goes in as a psql variable, never on a command line.
psql -v ON_ERROR_STOP=1 -v pw="$REGISTRY_DB_PASSWORD" -d "${DATABASE_URL:-postgres}" <<'SQL'
SELECT 'CREATE DATABASE tributary_registry'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'tributary_registry') \gexec
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tributary_registry') THEN
    CREATE ROLE tributary_registry LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT NOREPLICATION;
  END IF;
END $$;
ALTER ROLE tributary_registry PASSWORD :'pw';
REVOKE ALL ON DATABASE tributary_registry FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE tributary_registry TO tributary_registry;
ALTER ROLE tributary_registry IN DATABASE tributary_registry SET search_path = registry;
\connect tributary_registry
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS registry AUTHORIZATION tributary_registry;
SQL
echo "registry-db: database tributary_registry and role tributary_registry ready"
