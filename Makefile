# One-word entry points: make run, make test, make bench, make lint.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
VENDOR := chatserver/static/vendor/socket.io.min.js
CHARTS := chatserver/static/vendor/chart.umd.min.js
DEMO_DB ?= var/demo.db

.PHONY: run test bench lint install assets clean screenshots

run: install assets
	@mkdir -p var
	$(BIN)/chatserver demo --db $(DEMO_DB)

test: install assets
	$(BIN)/pytest

bench: install assets
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.busy
	$(BIN)/python -m bench.stalled
	$(BIN)/python -m bench.logins
	$(BIN)/python -m bench.long_queue
	$(BIN)/python -m bench.tracking_page

lint: install
	$(BIN)/python -m compileall -q chatserver

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

# The official socket.io-client and Chart.js browser builds, from the npm registry with the lock file.
assets: $(VENDOR) $(CHARTS)

$(VENDOR) $(CHARTS) &: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $(VENDOR))
	cp node_modules/socket.io-client/dist/socket.io.min.js $(VENDOR)
	cp node_modules/chart.js/dist/chart.umd.min.js $(CHARTS)

# docs/screenshots/*.png: the widget and the console at desktop and phone sizes, in Debian's Chromium.
screenshots: install assets
	$(BIN)/python scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) node_modules chatserver/static/vendor var
