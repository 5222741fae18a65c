# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv, installs the package with its dev extras, and installs
# Graphviz when `dot` is missing (apt-get as root, or Homebrew).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: venv graphviz demo test bench clean

# Internal: the virtualenv with chainrule installed editable plus [dev].
venv: $(STAMP) graphviz

$(PY):
	$(PYTHON) -m venv $(VENV)

# pip runs again only when pyproject.toml is newer than the stamp.
$(STAMP): pyproject.toml | $(PY)
	@echo "Installing chainrule[dev] into $(VENV) ..."
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

# Graphviz's `dot` renders drawings; without it they fall back to DOT source,
# so a failed install only warns.
graphviz:
	@if ! command -v dot >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Graphviz (dot) with apt-get ..."; \
	    ( apt-get update -qq && \
	      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null ) \
	    || echo "warning: could not install Graphviz; drawings will fall back to DOT source" >&2; \
	  elif command -v brew >/dev/null 2>&1; then \
	    echo "Installing Graphviz (dot) with Homebrew ..."; \
	    brew install graphviz \
	    || echo "warning: could not install Graphviz; drawings will fall back to DOT source" >&2; \
	  else \
	    echo "warning: Graphviz 'dot' not found and not installed (needs root with apt-get, or Homebrew); drawings will fall back to DOT source. Install it with 'sudo apt-get install graphviz' or 'brew install graphviz'." >&2; \
	  fi; \
	fi

demo: venv
	$(PY) -m chainrule.demo

# pytest's exit status is make's: any failure, and exit 5 (no tests
# collected), fails the target.
test: venv
	$(PY) -m pytest

$(BENCH_STAMP): pyproject.toml $(STAMP)
	@echo "Installing chainrule[bench] into $(VENV) ..."
	$(PY) -m pip install -q -e '.[bench]'
	@touch $@

bench: venv $(BENCH_STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build dist *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
	find . -name .ipynb_checkpoints -type d -prune -exec rm -rf {} +
