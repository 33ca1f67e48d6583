#!/usr/bin/env bash
# Runs once, when the PostgreSQL container initialises its data directory (docker-compose).
# Creates the request pool's login role tenantry_api: NOSUPERUSER NOINHERIT, a member of the
# roles the service's transactions run as and nothing else: tenantry_app (tenant transactions),
# tenantry_anon (pre-authentication: log-in, refresh, readiness) and tenantry_relay (the webhook
# relay, one organization per transaction). The migrations create them idempotently (and
# restate their attributes); they are created here too so that the memberships can be granted
# now.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v api_password="$TENANTRY_API_DB_PASSWORD" <<'SQL'
create role tenantry_app nologin nosuperuser nobypassrls noinherit;
create role tenantry_anon nologin nosuperuser nobypassrls noinherit;
create role tenantry_relay nologin nosuperuser nobypassrls noinherit;
create role tenantry_api login nosuperuser nobypassrls noinherit nocreatedb nocreaterole
    password :'api_password';
grant tenantry_app, tenantry_anon, tenantry_relay to tenantry_api;
SQL
