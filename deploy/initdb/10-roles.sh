#!/usr/bin/env bash
# Runs once, when the PostgreSQL container initialises its data directory (docker-compose).
# Creates the request pool's login role: NOSUPERUSER NOINHERIT, a member of tenantry_app and
# nothing else, so that it can do only what tenantry_app may and cannot bypass RLS (the
# service's start-up self-check refuses a runtime role that could). The migrations create
# tenantry_app idempotently; it is created here too so that the membership can be granted now.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
     -v api_password="$TENANTRY_API_DB_PASSWORD" <<'SQL'
create role tenantry_app nologin nosuperuser nobypassrls noinherit;
create role tenantry_api login nosuperuser nobypassrls noinherit nocreatedb nocreaterole
    password :'api_password';
grant tenantry_app to tenantry_api;
SQL
