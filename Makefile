# The two commands of README.md: `make serve` and `make test`. Installs happen only when
# their inputs change (the locks requirements*.txt for the venv, package*.json for
# node_modules).

PYTHON ?= python3.11
PROJECT ?= demo-partner-api
VENV := venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
COVERAGE := --cov=functions --cov=main --cov-branch --cov-report=term:skip-covered
UV_ARGS ?=
LOCK := $(VENV)/bin/uv pip compile --quiet --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(UV_ARGS)

.PHONY: all setup serve emulators test unit mutate fuzz soak bench capacity limits rules-cost webhooks-bench sdk-bench token listen lint typecheck generate sdk preflight release adopt lock vendor browser clean

# Each install is keyed on its locks' content (a stamp named after their hash), not on file
# times: a fresh clone or a pull that leaves the locks as they were installs nothing.
PY_LOCKS := requirements.txt requirements-dev.txt
NODE_LOCKS := tooling/package.json tooling/package-lock.json
PY_STAMP := $(VENV)/.installed-$(shell cat $(PY_LOCKS) | sha256sum | cut -c1-16)
NODE_STAMP := tooling/node_modules/.installed-$(shell cat $(NODE_LOCKS) | sha256sum | cut -c1-16)
HEARTBEAT := devtools/heartbeat.sh

all: $(PY_STAMP) $(NODE_STAMP)

# Installs say what they do and how long it took; in a terminal pip and npm show their own
# progress, elsewhere (CI) a heartbeat line every 30 s while they run.
$(PY_STAMP):
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; install Python 3.11 (the functions runtime is python311)"; exit 2; }
	@echo "[install] Python packages into $(VENV)/ (requirements-dev.txt, about 110 packages) ..."
	@start=$$(date +%s); quiet=$$([ -t 1 ] || echo --quiet); \
	test -x $(PY) || $(PYTHON) -m venv $(VENV) && \
	$(HEARTBEAT) pip $(PY) -m pip install --disable-pip-version-check $$quiet --upgrade pip && \
	$(HEARTBEAT) pip $(PY) -m pip install --disable-pip-version-check $$quiet -r requirements-dev.txt && \
	echo "[install] Python packages ready in $$(( $$(date +%s) - start )) s"
	@rm -f $(VENV)/.installed*
	@touch $@

# npm ci empties node_modules before it installs: it runs in a staging folder, and its
# result replaces node_modules only once it succeeded (an offline run keeps what was there).
# Optional dependencies are left out: firebase-tools runs without them, and re2's would be
# compiled from C++ for 25 minutes where its prebuilt binary cannot be downloaded.
$(NODE_STAMP):
	@command -v npm >/dev/null || { echo "error: npm not found; install Node.js 20+"; exit 2; }
	@echo "[install] firebase-tools into tooling/node_modules/ (npm ci) ..."
	@start=$$(date +%s); level=$$([ -t 1 ] || echo --loglevel=error); \
	rm -rf tooling/.staging && mkdir -p tooling/.staging && \
	cp $(NODE_LOCKS) tooling/.staging/ && \
	$(HEARTBEAT) npm npm ci --prefix tooling/.staging --omit=optional --no-audit --no-fund $$level && \
	rm -rf tooling/node_modules && mv tooling/.staging/node_modules tooling/node_modules && \
	rm -rf tooling/.staging && \
	echo "[install] firebase-tools ready in $$(( $$(date +%s) - start )) s" || \
	{ status=$$?; rm -rf tooling/.staging; echo "error: npm ci failed; tooling/node_modules is as it was"; exit $$status; }
	@touch $@

# Installs (venv, firebase-tools) and the local secret, nothing started: what an existing
# app's own emulators need before they load this codebase (seconds once installed).
setup: all
	$(PY) -m devtools.stack setup

serve: all
	$(PY) -m devtools.stack --project $(PROJECT) serve

# Lint, types and the unit suite run while the emulators start (--overlap), then the
# emulator suite in two workers on the one stack (each test has tenants of its own),
# with the tests marked empty_database one at a time on a second stack beside it, then
# those marked alone; with PYTEST_ARGS, lint and types first, then pytest with exactly
# them on one stack.
test: all browser $(if $(PYTEST_ARGS),lint typecheck)
	$(PY) -m devtools.stack --project $(PROJECT) $(if $(PYTEST_ARGS),,--overlap) test -- $(COVERAGE) $(PYTEST_ARGS)

# The API reference page is tested in headless Chromium (Debian's package).
browser:
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
		echo "[install] chromium (apt-get), for the API reference page test ..." && \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
		>/dev/null; } || { echo "error: install chromium (apt-get install chromium)"; exit 2; }

# The unit suite alone: no emulator, no network, seconds.
unit: all
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

# Mutation testing of the modules whose numbers the unit suite pins (scores per module,
# reports/mutation.json; fails below 85% killed). About 8 minutes on 2 cores.
mutate: all
	$(PY) -m devtools.mutation $(MUTATE_ARGS)

# The full contract fuzzing and parity runs (bounded profiles run in `make test`).
FUZZ_TESTS := tests/emulator/test_fuzz.py tests/emulator/test_parity.py \
	tests/emulator/test_declared_resources.py tests/emulator/test_existing_data.py
fuzz: all
	FUZZ_EXAMPLES=150 FUZZ_MINIMUM_REQUESTS=1000 PARITY_EXAMPLES=150 \
	$(PY) -m devtools.stack --project $(PROJECT) test -- -s -p no:cacheprovider $(FUZZ_TESTS)

# Retried, cut-off createEntry calls under load; figures in reports/soak.json.
soak: all
	$(PY) -m devtools.stack --project $(PROJECT) exec -- devtools.soak $(SOAK_ARGS)
	WEBHOOK_OUTAGE_S=120 $(PY) -m devtools.stack --project $(PROJECT) exec -- pytest \
		tests/emulator/test_webhook_delivery.py -k receiver_down -q -p no:cacheprovider

# Our functions beside the seed's Node design and a naive Python port; bench/results/.
bench: all
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq wrk >/dev/null; } || { echo "error: install wrk"; exit 2; }
	$(PY) -m devtools.stack --project $(PROJECT) exec -- bench.run $(BENCH_ARGS)

# One instance at 80 requests at once, by THREADS; bench/results/capacity.{md,json}.
capacity: all
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
		apt-get install -y -qq wrk >/dev/null; } || { echo "error: install wrk"; exit 2; }
	$(PY) -m devtools.stack --project $(PROJECT) exec -- bench.capacity $(CAPACITY_ARGS)

# Rate limits shared by 1, 2 and 4 serving processes; bench/results/limits.{md,json}.
limits: all
	$(PY) -m devtools.stack --project $(PROJECT) exec -- bench.limits $(LIMITS_ARGS)

# What the rules' partner-status check adds to a direct read; bench/results/rules_cost.md.
rules-cost: all
	$(PY) -m devtools.stack --project $(PROJECT) exec -- bench.rules_cost $(RULES_COST_ARGS)

# Commit to webhook delivery (p50/p99) and the documents a create writes;
# bench/results/deliveries.{md,json}.
webhooks-bench: all
	$(PY) -m devtools.stack --project $(PROJECT) exec -- bench.deliveries $(WEBHOOKS_BENCH_ARGS)

# What an SDK call adds to a bare HTTP call, in client CPU; bench/results/sdk_overhead.{md,json}.
sdk-bench: all
	$(PY) -m bench.sdk_overhead $(SDK_BENCH_ARGS)

token: all
	@FIREBASE_AUTH_EMULATOR_HOST=127.0.0.1:9099 $(PY) -m devtools.seed token

# A local webhook receiver for a partner's events, against `make serve`'s emulators:
# `make listen PARTNER=acme` verifies and prints each delivery (LISTEN_ARGS: --data ...).
listen: all
	@test -n "$(PARTNER)" || { echo "usage: make listen PARTNER=<partner id>"; exit 2; }
	$(PY) -m devtools.listen --partner $(PARTNER) $(LISTEN_ARGS)

lint: all
	$(VENV)/bin/ruff check --quiet .
	$(VENV)/bin/ruff format --check --quiet .
	$(PY) -m devtools.workflows

typecheck: all
	$(VENV)/bin/mypy --no-error-summary

generate: all
	$(PY) -m devtools.generate $(GENERATE_ARGS)
	$(PY) -m devtools.sdk

# The partners' SDKs from openapi.json: sdk/python and sdk/typescript (built into dist/).
sdk: all
	$(PY) -m devtools.sdk $(SDK_ARGS)

# An adopted app's own emulators, with the package's Java and Firestore emulator:
# make emulators INTO=.. [PROJECT=<id>] [EMULATORS_ARGS=--print-env]
emulators: all
	@test -n "$(INTO)" || { echo "error: name the app's folder: make emulators INTO=../my-app"; exit 2; }
	$(PY) -m devtools.app_emulators --into "$(INTO)" $(if $(filter-out demo-partner-api,$(PROJECT)),--project $(PROJECT)) $(EMULATORS_ARGS)

# Before a deploy, offline: every function's options, the settings files, the rules, the
# indexes; then the commands that check what only the cloud knows. firebase.json runs it
# as the functions' predeploy hook. make preflight PROJECT=<id> [PREFLIGHT_ARGS=--into ..]
preflight: all
	$(PY) -m devtools.preflight --project $(PROJECT) $(PREFLIGHT_ARGS)

# Cut a release once CHANGELOG.md has its heading: make release VERSION=x.y.z
release: all
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=x.y.z"; exit 2; }
	$(PY) -m devtools.release --version $(VERSION)

# Add the package to an existing Firebase app: make adopt INTO=.. [ADOPT_ARGS=--dry-run]
adopt: all
	@test -n "$(INTO)" || { echo "error: name the app's folder: make adopt INTO=../my-app"; exit 2; }
	$(PY) -m devtools.adopt --into "$(INTO)" $(ADOPT_ARGS)

# Re-vendor the pinned API reference renderer (swagger-ui-dist) into functions/edge/http/vendor/.
vendor: all
	$(PY) -m devtools.vendor

# Re-resolve the locks from requirements*.in (UV_ARGS=--upgrade moves every pin forward).
lock: all
	$(LOCK) requirements.in -o requirements.txt
	$(LOCK) requirements-dev.in -c requirements.txt -o requirements-dev.txt

clean:
	rm -rf $(VENV) tooling/node_modules mutants .cache .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
