# Two commands for a newcomer: `make demo` and `make test`. Every target sets up what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
TOOLS := .venv-tools
# The stamp names a hash of the dependency lists, so editing them reinstalls and nothing else does.
DEPS_HASH := $(shell cat pyproject.toml requirements-tools.txt 2>/dev/null | sha1sum | cut -c1-12)
STAMP := $(VENV)/.installed-$(DEPS_HASH)
TOOLS_STAMP := $(TOOLS)/.installed-$(DEPS_HASH)
TYPED := fairmot/tracking fairmot/sagemaker fairmot/cli.py fairmot/commands

.PHONY: venv tools venv-sdk test test-sdk test-fast lint format demo clean

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

test: venv tools venv-sdk lint
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(BIN)/python -m pytest
	$(SDK)/bin/python -m pytest tests/sdk -q

test-fast: venv
	$(BIN)/python -m pytest -m "not slow" -q

demo: venv
	$(BIN)/fairmot local demo --out demo-output

clean:
	rm -rf $(VENV) $(TOOLS) $(SDK) .pytest_cache .mypy_cache .ruff_cache demo-output .fairmot-local
