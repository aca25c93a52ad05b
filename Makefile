# The two commands: `make demo` and `make test`. Everything else is plumbing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
CASCADA := $(VENV)/bin/cascada
REGION := regions/malta.gpkg

.PHONY: demo test test-slow lint bench clean region

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

test: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -q -m "not slow"

test-slow: $(VENV)/.test-installed
	$(PY) -m pytest -q -m slow || [ $$? -eq 5 ]

bench: $(VENV)/.test-installed
	$(PY) benchmarks/cascade_vs_networkx.py

clean:
	rm -rf $(VENV) regions runs .pytest_cache
