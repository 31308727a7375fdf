"""AWS contracts that hold wherever the pipeline's requests are made: tests, local mode, AWS."""
