"""Local mode: the AWS pipeline offline, on moto, with the real template, state machines,
handlers and container entry points. See `stack.LocalAws` and the `*_seam` modules."""
