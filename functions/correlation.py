"""One correlation id in every log line and on every X-Ray trace of a step."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer


def bind_correlation_id(logger: Logger, tracer: Tracer, correlation_id: str) -> None:
    """Logs get `correlation_id`; traces get a searchable annotation of the same name."""
    logger.set_correlation_id(correlation_id)
    tracer.put_annotation(key="correlation_id", value=correlation_id)
