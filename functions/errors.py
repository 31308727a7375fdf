"""Typed errors: the class name is what a state machine's Retry/Catch matches (errorType)."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class: a step found something wrong and says what to do about it."""


class InvalidPayloadError(PipelineError):
    """A step's payload does not match its model (payloads.py): the state machine and the
    handler disagree."""


class InvalidEventError(PipelineError):
    """The execution input is neither an S3 Object Created event nor a known request event."""


class InvalidNameError(PipelineError):
    """A SageMaker name would break the service's length or character rules."""


class DatasetInvalidError(PipelineError):
    """manifest.json is missing or malformed, or names a sequence that is not in S3."""


class VideoInvalidError(PipelineError):
    """The uploaded object is not a supported video, is missing, or is too large."""


class NoCompletedTrainingJobError(PipelineError):
    """A tuning job finished without one completed training job to take hyperparameters from."""


class NoModelError(PipelineError):
    """A video arrived but no model artifact is known to process it with."""


class EndpointBusyError(PipelineError):
    """The endpoint is being created or updated; retried by the state machine."""


class EndpointFailedError(PipelineError):
    """The endpoint ended in Failed (or OutOfService) state."""


class EndpointTimeoutError(PipelineError):
    """The endpoint did not become InService within the poll bound."""


class ResultsMissingError(PipelineError):
    """The processing job finished but summary.json is not where it should be."""
