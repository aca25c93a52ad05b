# The two commands: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CASCADA := $(VENV)/bin/cascada
REGION := regions/malta.gpkg

.PHONY: demo test test-slow lint bench clean region web chromium

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml $(VENV)/bin/activate
	$(PY) -m pip install --quiet --prefer-binary -e ".[demo]" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import cascada, pyrosm, rasterio, matplotlib"
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/bin/activate
	$(PY) -m pip install --quiet --prefer-binary -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
	$(PY) -c "import cascada, pyrosm, rasterio, matplotlib, pytest, hypothesis"
	touch $@ $(VENV)/.demo-installed

$(REGION): $(VENV)/.demo-installed data/malta/malta-2018-08.osm.pbf
	$(CASCADA) region from-osm data/malta/malta-2018-08.osm.pbf --name malta --output $(REGION)

region: $(REGION)

demo: $(VENV)/.demo-installed $(REGION)
	$(CASCADA) run scenarios/malta-flash-flood.toml

# The dashboard (web/) is bundled by Vite into the package: src/cascada/service/static/.
# npm ci runs when node_modules is missing or the lock is newer; nothing is fetched at run time.
WEB_STATIC := src/cascada/service/static/index.html
WEB_SOURCES := web/index.html web/vite.config.js $(wildcard web/src/*.js web/src/*.css web/src/views/*.js)

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_STATIC): web/node_modules/.package-lock.json $(WEB_SOURCES)
	cd web && npm run build

web: $(WEB_STATIC)

# Browser tests drive Debian's Chromium (never a downloaded browser).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@[ -x /usr/bin/chromium ] || ($(SUDO) apt-get update && $(SUDO) apt-get install -y chromium)

test: $(VENV)/.test-installed web chromium
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -q -m "not slow"

test-slow: $(VENV)/.test-installed
	$(PY) -m pytest -q -m slow || [ $$? -eq 5 ]

bench: $(VENV)/.test-installed
	$(PY) benchmarks/cascade_vs_networkx.py

clean:
	rm -rf $(VENV) regions runs .pytest_cache web/node_modules src/cascada/service/static test-artifacts
