# Development and CI entry points (API.md, "How it is started"). Every target is idempotent
# and works from a clean clone on a fresh Debian 12 machine, run as root.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := run

VENV := .venv
STAMP := $(VENV)/.stamp
GRIDCTL := $(VENV)/bin/gridctl
PG_CONTROL := /usr/share/postgresql/15/extension/postgis.control

WEB := clients/web
WEB_MODULES := $(WEB)/node_modules/.stamp
WEB_DIST := $(WEB)/dist/index.html
WEB_SOURCES := $(shell find $(WEB)/src $(WEB)/index.html $(WEB)/vite.config.ts $(WEB)/tsconfig.json \
	-type f 2>/dev/null)

.PHONY: venv postgis services db run lint test openapi bench soak georeport-client web chromium \
	web-test

# The virtualenv, (re)installed whenever pyproject.toml changes.
venv: $(STAMP)
$(STAMP): pyproject.toml
	python3 -c 'import ensurepip' 2>/dev/null \
		|| { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -e '.[dev]'
	touch $@

# The PostGIS extension files for PostgreSQL 15 (the foundation migration creates the extension).
postgis:
	test -f $(PG_CONTROL) || { apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15-postgis-3; }

# PostgreSQL and Redis up and answering. A start that fails because the server is already
# starting up is fine: `gridctl wait-services` has the last word.
services: $(STAMP)
	pg_isready -q -h 127.0.0.1 -p 5432 \
		|| pg_ctlcluster --skip-systemctl-redirect 15 main start || true
	[[ "$$(redis-cli -h 127.0.0.1 ping 2>/dev/null)" == PONG ]] || { \
		mkdir -p /var/lib/redis /var/log/redis \
		&& redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" \
			--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
	$(GRIDCTL) wait-services

# The database created if missing and migrated to head.
db: postgis services
	$(GRIDCTL) migrate

# The demo data (first run only), then the API on 127.0.0.1:8000 and the arq worker beside it
# until Ctrl-C. The worker runs under a supervisor that restarts it whenever it exits; both
# are stopped when the API stops (Ctrl-C reaches the API; the traps handle the rest).
run: db web
	$(GRIDCTL) seed demo
	@scripts/supervise.sh $(GRIDCTL) worker & supervisor=$$!; \
	$(GRIDCTL) serve --host 127.0.0.1 --port 8000 & api=$$!; \
	trap 'kill -TERM $$supervisor 2>/dev/null; wait $$supervisor || true' EXIT; \
	trap 'kill -TERM $$api 2>/dev/null' INT TERM HUP; \
	status=0; \
	while kill -0 $$api 2>/dev/null; do wait $$api || status=$$?; done; \
	exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

# Tests create and drop their own database; they need PostGIS, PostgreSQL and Redis.
test: $(STAMP) postgis services lint web-test
	$(VENV)/bin/python -m pytest

# The web console's npm dependencies, exactly as package-lock.json pins them (Node.js from
# Debian when the machine has none).
$(WEB_MODULES): $(WEB)/package-lock.json
	command -v npm >/dev/null || { apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs npm; }
	cd $(WEB) && npm ci --no-audit --no-fund
	touch $@

# The console built into dist/ (served by the API at /) whenever a source is newer.
web: $(WEB_DIST)
$(WEB_DIST): $(WEB_MODULES) $(WEB_SOURCES)
	cd $(WEB) && npm run build

# Debian's Chromium for the browser tests (never a downloaded browser build), with a CJK
# font so the screenshots show the console's Chinese.
chromium:
	command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || { apt-get update \
		&& DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver \
			fonts-wqy-zenhei; }

# The console's checks: the typed client matches openapi.json, types, unit tests (Vitest),
# then the browser tests against a live server on a freshly seeded database.
web-test: $(STAMP) services web chromium
	cd $(WEB) && npm run -s check:api && npm run -s typecheck && npm test
	cd $(WEB) && npm run -s test:browser

# Regenerate the committed OpenAPI document and what is derived from it — the mobile app's
# subset and workflow table, the web console's typed client (tests compare all three).
openapi: $(STAMP) $(WEB_MODULES)
	$(GRIDCTL) openapi > openapi/openapi.json.tmp
	mv openapi/openapi.json.tmp openapi/openapi.json
	$(VENV)/bin/python -m cli.mobile_contract
	cd $(WEB) && npm run -s gen:api

# City-scale benchmarks against the raw-SQL floor (not part of `make test`): builds the
# scale's database once (grid_bench_$(SCALE)), then writes bench/results/LATEST.md.
SCALE ?= 2m
bench: $(STAMP) postgis services
	command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	$(VENV)/bin/python -m bench.run --scale $(SCALE)

# Faults and load held (not part of `make test`): Redis stopped for the full 60 s under write
# load, then five minutes of mixed-role load through wrk on the demo city (`grid_soak`);
# each asserts its limits and prints a summary (bench/results/SOAK.md).
soak: $(STAMP) postgis services
	command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	GRID_FAULT_REDIS_OUTAGE_SECONDS=60 $(VENV)/bin/python -m pytest -q -s -p no:cacheprovider \
		tests/reliability/test_faults_redis.py
	$(VENV)/bin/python -m bench.soak --seconds 300

# The third-party Open311 read client (PyPI `georeport`) that tests/api/test_open311_client.py
# drives against a live server, in a virtualenv of its own: it pins old dependencies
# (requests, xmltodict) that must not meet ours. The test creates it when it is missing.
GEOREPORT := var/georeport/bin/python
georeport-client: $(GEOREPORT)
$(GEOREPORT):
	python3 -m venv var/georeport
	var/georeport/bin/pip install 'georeport==0.3.1'
