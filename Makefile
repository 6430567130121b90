# Set-up and the everyday commands. Python packages go into ./.venv; front-end packages come
# from the npm registry into node_modules folders; the browser test uses Debian's chromium.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test serve benchmarks clean

$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

tests/gltf/node_modules/.installed: tests/gltf/package-lock.json
	npm ci --prefix tests/gltf --no-audit --no-fund --loglevel=error
	touch $@

# three.js (served locally by the web app, no CDN) and playwright-core (drives the browser test).
app/server/web/node_modules/.installed: app/server/web/package-lock.json
	npm ci --prefix app/server/web --no-audit --no-fund --loglevel=error
	touch $@

/usr/bin/chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null; \
	else echo "the browser test needs Debian's chromium: sudo apt-get install chromium"; exit 1; fi

demo: $(VENV)/.installed
	$(VENV)/bin/vidmimic demo -o demo_out

test: $(VENV)/.installed tests/gltf/node_modules/.installed app/server/web/node_modules/.installed /usr/bin/chromium
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q

serve: $(VENV)/.installed app/server/web/node_modules/.installed
	$(VENV)/bin/vidmimic serve

benchmarks: $(VENV)/.installed
	$(PY) benchmarks/roundtrip.py --markdown

clean:
	rm -rf $(VENV) tests/gltf/node_modules app/server/web/node_modules demo_out
