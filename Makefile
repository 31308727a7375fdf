# Two commands for a newcomer: `make demo` and `make test`. Every target sets up what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
# The stamp names a hash of the dependency lists, so editing them reinstalls and nothing else does.
DEPS_HASH := $(shell cat pyproject.toml requirements-tools.txt 2>/dev/null | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
TOOLS_STAMP := $(TOOLS)/.installed-$(DEPS_HASH)
TYPED := fairmot/tracking fairmot/sagemaker fairmot/cli.py fairmot/commands fairmot/console

.PHONY: venv tools venv-sdk browser bench-venv test test-sdk test-fast lint format demo clean sam-build
# `sam build` needs the functions' runtime (python3.12) on PATH: found there or under pyenv.
# (A pyenv shim on PATH may not run: each candidate must start.)
PYTHON312 := $(shell for p in $$(ls -d $$HOME/.pyenv/versions/3.12*/bin/python3.12 2>/dev/null | sort -V -r) $$(command -v python3.12); do "$$p" -c '' 2>/dev/null && { echo "$$p"; break; }; done)

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch is pinned to the CPU wheel on this disk; an open range would fetch a CUDA build.
	$(BIN)/python -m pip install -q -e '.[train,aws,local,dev]'
	# trackeval's declared dependencies pull GUI OpenCV over the headless one; it needs none of them.
	$(BIN)/python -m pip install -q --no-deps trackeval==1.3.0
	rm -f $(VENV)/.installed-*
	touch $@

# aws-sam-cli and checkov pin boto3 and friends differently (aws-sam-cli==1.170.0 and
# checkov==3.3.30 do not resolve together): each lives in its own venv, and both stay out of .venv.
CHECKOV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV)/.installed-$(shell cat requirements-checkov.txt 2>/dev/null | sha1sum | cut -c1-12)

tools: $(TOOLS_STAMP) $(CHECKOV_STAMP)

$(TOOLS_STAMP): requirements-tools.txt
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS) || python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/bin/python -m pip install -q -r requirements-tools.txt
	rm -f $(TOOLS)/.installed-*
	touch $@

$(CHECKOV_STAMP): requirements-checkov.txt
	@test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV) || python3 -m venv $(CHECKOV)
	$(CHECKOV)/bin/python -m pip install -q --upgrade pip
	$(CHECKOV)/bin/python -m pip install -q -r requirements-checkov.txt
	rm -f $(CHECKOV)/.installed-*
	touch $@

# Bench-only venv for bench/trackers.py (the roboflow `trackers` peers); never pulls torch.
BENCH := .venv-bench

bench-venv:
	@test -x $(BENCH)/bin/python || $(PYTHON) -m venv $(BENCH) || python3 -m venv $(BENCH)
	$(BENCH)/bin/python -m pip install -q -r requirements-bench.txt
	$(BENCH)/bin/python -m pip install -q --no-deps -r requirements-bench-nodeps.txt

# The SageMaker SDK (sagemaker-core needs protobuf<7; onnx in .venv has 7) and the notebook kernel
# live in their own venv. constraints-sdk.txt pins torch and the botocore band s3fs accepts.
SDK := .venv-sdk
SDK_STAMP := $(SDK)/.installed-$(shell cat pyproject.toml constraints-sdk.txt 2>/dev/null | sha1sum | cut -c1-12)

venv-sdk: $(SDK_STAMP)

$(SDK_STAMP): pyproject.toml constraints-sdk.txt
	@test -x $(SDK)/bin/python || $(PYTHON) -m venv $(SDK) || python3 -m venv $(SDK)
	$(SDK)/bin/python -m pip install -q --upgrade pip
	$(SDK)/bin/python -m pip install -q -e '.[sdk]' pytest pytest-timeout moto==5.2.5 -c constraints-sdk.txt
	rm -f $(SDK)/.installed-*
	touch $@

test-sdk: venv venv-sdk
	$(SDK)/bin/python -m pytest tests/sdk -q

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)
	cd functions && ../$(BIN)/mypy .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The console's browser test drives Debian's chromium through chromedriver. Installing needs root
# and apt-get; where either is missing the test skips itself and says why.
browser:
	@command -v chromedriver >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
	  && DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver >/dev/null; } \
	  || echo "chromium not installed: the console's browser test will be skipped"

test: venv tools venv-sdk lint browser sam-build
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(BIN)/python -m pytest
	$(SDK)/bin/python -m pytest tests/sdk -q

# The SAM build of the functions and their shared dependency layer (not in test-fast).
sam-build: tools
ifneq ($(PYTHON312),)
	PATH="$(dir $(PYTHON312)):$(CURDIR)/$(TOOLS)/bin:$$PATH" SAM_CLI_TELEMETRY=0 \
		$(TOOLS)/bin/sam build --template template.yaml --build-dir .aws-sam/build
else
	@echo "sam build skipped: no python3.12 (the functions' runtime) on PATH or under pyenv"
endif

test-fast: venv
	$(BIN)/python -m pytest -m "not slow" -q

demo: venv
	$(BIN)/fairmot local demo --out demo-output

clean:
	rm -rf $(VENV) $(TOOLS) $(SDK) .pytest_cache .mypy_cache .ruff_cache demo-output .fairmot-local .aws-sam
