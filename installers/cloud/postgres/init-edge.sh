#!/bin/sh
# Runs once, as the postgres superuser, when the postgres-data volume is empty (the image's
# /docker-entrypoint-initdb.d). The workers and the API log in as edge, which owns clinic_edge and can create the
# stores' tables and partitions (migrations run at start), but is not a superuser.
# TimescaleDB needs a superuser for CREATE EXTENSION: with a TimescaleDB image, add
# `CREATE EXTENSION IF NOT EXISTS timescaledb;` in clinic_edge here (docs/stores.md, "ECG and TimescaleDB").
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v edge_password="$(cat /run/secrets/pg-edge-password)" <<'SQL'
CREATE ROLE edge LOGIN PASSWORD :'edge_password';
CREATE DATABASE clinic_edge OWNER edge;
SQL
