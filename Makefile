# Set-up and the two everyday commands. Everything installs into ./.venv.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test benchmarks clean

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -e '.[test]'
	touch $@

tests/gltf/node_modules/.installed: tests/gltf/package-lock.json
	npm ci --prefix tests/gltf --no-audit --no-fund --loglevel=error
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/vidmimic demo -o demo_out

test: $(VENV)/.installed tests/gltf/node_modules/.installed
	$(PY) -m pytest -q

benchmarks: $(VENV)/.installed
	$(PY) benchmarks/roundtrip.py --markdown

clean:
	rm -rf $(VENV) tests/gltf/node_modules demo_out
