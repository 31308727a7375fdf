"""What the fairmot package and the stack's Lambda functions (functions/) both need, in one place.

The training job prints metrics that SageMaker reads with the regexes here; the manifest model is
what `fairmot synth`/`prepare` write and what the stack validates. The package depends on pydantic
only (both sides have it): pip installs it with fairmot, and `sam build` ships it to every
function in the ContractsLayer (layers/contracts/Makefile), so there is one copy of each contract.
"""
