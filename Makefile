# Engram: `make run` starts everything locally, `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := run

# Python >= 3.12: the first of python3.13/python3.12 on PATH, then any pyenv install.
PYTHON ?= $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.1[2-9]*/bin/python3); do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	command -v $$p; break; fi; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test install chromium promtool tesseract services-stop bench clean

$(STAMP): pyproject.toml requirements.lock
	@if [ -z "$(PYTHON)" ]; then \
		echo "error: Engram needs Python 3.12 or newer (looked for python3.13, python3.12 and ~/.pyenv/versions/3.1x)." >&2; \
		echo "       Install one, or run: make PYTHON=/path/to/python3.12 ..." >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP) tesseract
	$(PY) manage.py services start
	$(PY) manage.py migrate --noinput
	$(PY) manage.py jobs seed_schedules
	$(PY) manage.py engram_demo
	$(PY) manage.py serve

# Browser tests drive Debian's chromium (never a browser download); install it when missing.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
		|| { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }; \
	fi

# The alert rules are checked and unit-tested with Debian's promtool (package prometheus).
promtool:
	@if ! command -v promtool >/dev/null 2>&1; then \
		echo "installing Debian's prometheus (promtool) for the alert rule tests"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus \
		|| { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus; }; \
	fi

# OCR for scanned PDFs and images: Debian's tesseract with its English model, installed when missing.
tesseract:
	@if ! command -v tesseract >/dev/null 2>&1 || [ ! -e /usr/share/tesseract-ocr/5/tessdata/eng.traineddata ]; then \
		echo "installing Debian's tesseract-ocr for document OCR"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q tesseract-ocr tesseract-ocr-eng \
		|| { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q tesseract-ocr tesseract-ocr-eng; }; \
	fi

test: $(STAMP) chromium promtool tesseract
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) bench/jobs_throughput.py
	$(PY) bench/admin_scale.py
	$(PY) bench/progress_latency.py
	$(PY) bench/embeddings_throughput.py
	$(PY) bench/api_latency.py
	$(PY) bench/retrieval.py
	$(PY) bench/documents.py

services-stop: $(STAMP)
	$(PY) manage.py services stop

clean: services-stop
	rm -rf var
