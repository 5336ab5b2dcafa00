#!/bin/sh
# Runs once, as the postgres superuser, when the postgres-data volume is empty (the image's
# /docker-entrypoint-initdb.d). Three roles (docs/stores.md, "Database roles"): edge owns clinic_edge and its schema,
# and the API and the workers use it only at start, to migrate (Stores__MigrationUsername); edge_api and edge_worker
# are what they run as, holding only the grants the migrations give them: no DDL, audit_log append-only. None is a
# superuser.
# An existing volume keeps its roles: create edge_api and edge_worker once by hand with the two statements below
# (psql as postgres), then switch to stores-api.json / stores-worker.json.
# TimescaleDB needs a superuser for CREATE EXTENSION: with a TimescaleDB image, add
# `CREATE EXTENSION IF NOT EXISTS timescaledb;` in clinic_edge here (docs/stores.md, "ECG and TimescaleDB").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v edge_password="$(cat /run/secrets/pg-edge-password)" \
  -v api_password="$(cat /run/secrets/pg-api-password)" \
  -v worker_password="$(cat /run/secrets/pg-worker-password)" <<'SQL'
CREATE ROLE edge LOGIN PASSWORD :'edge_password';
CREATE ROLE edge_api LOGIN PASSWORD :'api_password';
CREATE ROLE edge_worker LOGIN PASSWORD :'worker_password';
CREATE DATABASE clinic_edge OWNER edge;
SQL
