# mmdet-bags: the commands a newcomer needs.
#
#   make demo      baseline vs BAGS on a generated long-tail set, on CPU
#   make test      create .venv/ if needed (compiles mmcv once) and run the tests
#   make install   only create/update the environment in .venv/
#
# Variables: VENV (default .venv), PYTHON (interpreter that creates the venv,
# default python3), PYTEST_ARGS (extra pytest arguments, e.g. "-m 'not slow'"),
# TEST_WORKERS (parallel test processes, default auto = one per core).
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mmdet-bags-installed
PYTEST_ARGS ?=

.PHONY: install test demo clean-env

install: $(STAMP)

# The stamp is refreshed whenever a file that defines the environment changes;
# setup_env.sh itself skips whatever is already installed (mmcv is never
# compiled twice).
$(STAMP): tools/setup_env.sh tools/check_mmcv_ops.py requirements/build.txt \
		requirements/runtime.txt requirements/tests.txt requirements/tools.txt \
		requirements/constraints.txt setup.cfg pyproject.toml
	VENV=$(VENV) PYTHON=$(PYTHON) bash tools/setup_env.sh
	touch $@

# TEST_WORKERS: pytest-xdist processes (default: one per CPU core; 0 runs
# every test in this process).
TEST_WORKERS ?= auto
test: install
	$(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# DEMO_ARGS: e.g. "--force all" to regenerate and retrain everything.
DEMO_ARGS ?=
demo: install
	$(PY) tools/demo.py $(DEMO_ARGS)

clean-env:
	rm -rf $(VENV)
