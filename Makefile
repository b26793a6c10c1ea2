# S2 Cloud CNN developer tasks. `make demo` and `make test` do all set-up on Debian 12.
SHELL := /bin/bash
.DEFAULT_GOAL := help

SYSTEM_PYTHON := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
BUILD := build
QGIS_HOME := $(CURDIR)/$(BUILD)/qgis
PLUGIN_LINK := $(QGIS_HOME)/plugins/s2cloudcnn
PROFILE_INI := $(QGIS_HOME)/config/profiles/default/QGIS/QGIS3.ini
ZIP := $(BUILD)/s2cloudcnn.zip
APT_PACKAGES := qgis python3-qgis qgis-providers python3-gdal gdal-bin python3-matplotlib python3-scipy \
	python3-sklearn \
	python3-venv xvfb xauth git zip unzip
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
DEPLOY_DIR ?= $(HOME)/.local/share/QGIS/QGIS3/profiles/default/python/plugins
# The environment every QGIS run of ours gets: headless, our plugin enabled, venv packages visible.
# GDAL_PAM_ENABLED=NO: QGIS would save .aux.xml statistics beside the inputs it loads.
QGIS_ENV = QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$(QGIS_HOME)/runtime GDAL_PAM_ENABLED=NO \
	QGIS_PLUGINPATH=$(QGIS_HOME)/plugins QGIS_CUSTOM_CONFIG_PATH=$(QGIS_HOME)/config \
	PYTHONPATH=$(CURDIR)/$(VENV)/site-packages-link$${PYTHONPATH:+:$$PYTHONPATH}

.PHONY: help env test demo zip deploy lint qgis_process bench train clean

help:
	@echo "make env | test | demo | zip | deploy | lint | bench | train | qgis_process ARGS='list'"

env: apt-packages $(VENV)/.installed $(VENV)/.installed-dask qgis-profile data-link

.PHONY: apt-packages qgis-profile data-link
# Training and the tests that need the real data read them under data/ (models/README.md):
# link it to a shared data folder beside the checkout when there is one and data/ is not set.
data-link:
	@test -e data || test ! -d ../shared/data || ln -s ../shared/data data
apt-packages:
	@missing=$$(for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# QGIS's numpy is pinned so that pip never replaces it with one QGIS was not built against.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(SYSTEM_PYTHON) -m venv --system-site-packages $(VENV)
	@$(SYSTEM_PYTHON) -c 'import numpy; print("numpy==" + numpy.__version__)' > $(VENV)/constraints.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c $(VENV)/constraints.txt
	@ln -sfn $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') $(VENV)/site-packages-link
	@touch $@

# The optional Dask extra (the many-products job on a cluster): tests and make bench use it;
# the plugin inside QGIS never does.
$(VENV)/.installed-dask: requirements-dask.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dask.txt -c $(VENV)/constraints.txt
	@touch $@

# qgis_process loads a plugin from QGIS_PLUGINPATH only if the profile enables it.
qgis-profile: $(PROFILE_INI) $(PLUGIN_LINK)
$(PROFILE_INI):
	@mkdir -p $(dir $@) $(QGIS_HOME)/runtime && chmod 700 $(QGIS_HOME)/runtime
	@printf '[PythonPlugins]\ns2cloudcnn=true\n' > $@
$(PLUGIN_LINK):
	@mkdir -p $(dir $@) && ln -sfn $(CURDIR) $@

test: env
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

# Debian's qgis_process wrapper adds --noversioncheck, which 3.22 rejects: call the binary.
qgis_process: $(VENV)/.installed qgis-profile
	@$(QGIS_ENV) qgis_process.bin $(ARGS)

# Cloud detection on a bundled real L1C product through qgis_process; prints where it wrote.
demo: env
	@PYTHONPATH=$(CURDIR)/tests $(PY) tests/tools/demo_detect.py

lint: env
	$(PY) -m ruff check .

zip: $(ZIP)
.PHONY: $(ZIP)
$(ZIP):
	@mkdir -p $(BUILD)
	@tree=$$(git stash create); git archive --format=zip --prefix=s2cloudcnn/ -o $@ $${tree:-HEAD}
	@echo "Plugin zip: $(CURDIR)/$@ ($$(du -h $@ | cut -f1))"

deploy: zip
	@mkdir -p $(DEPLOY_DIR) && rm -rf $(DEPLOY_DIR)/s2cloudcnn
	@unzip -q -o $(ZIP) -d $(DEPLOY_DIR)
	@echo "Installed into $(DEPLOY_DIR)/s2cloudcnn; enable it in Plugins > Manage and Install Plugins"

# Benchmarks are scripts, not tests: each prints its own figures and ratios.
# The reference detector s2cloudless runs from its own isolated environment (no system or
# .venv packages), so the peer's timing depends on neither QGIS's packages nor make train's.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: requirements-bench.txt
	@test -x $(BENCH_VENV)/bin/python || $(SYSTEM_PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --disable-pip-version-check -r requirements-bench.txt
	@touch $@

bench: env $(BENCH_VENV)/.installed
	@for script in tests/benchmarks/bench_*.py; do \
		echo "== $$script"; $(PY) $$script || exit 1; done

# Rebuild a model (models/README.md): DATASET=l1c-references (default: s2cloudcnn-l1c13) |
# l1c-agreement (the detector-agreement recipe, s2cloudcnn-l1c13-agreement) |
# oncloudn (s2cloudcnn-rgbn) | alcd DATA=<ALCD folder> | pair; VARIANT, EPOCHS, STEPS, FILTERS,
# SEED optional; TRAIN_ARGS passes any other option of models/training/train.py.
DATASET ?= l1c-references
$(VENV)/.installed-train: requirements-train.txt $(VENV)/.installed
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-train.txt -c $(VENV)/constraints.txt
	@touch $@

train: env $(VENV)/.installed-train
	nice $(PY) -m models.training.train --dataset $(DATASET) $(if $(DATA),--data $(DATA)) \
		$(if $(VARIANT),--variant $(VARIANT)) $(if $(EPOCHS),--epochs $(EPOCHS)) \
		$(if $(STEPS),--steps $(STEPS)) $(if $(FILTERS),--filters $(FILTERS)) \
		$(if $(SEED),--seed $(SEED)) $(TRAIN_ARGS)

clean:
	rm -rf $(BUILD) .pytest_cache .ruff_cache
