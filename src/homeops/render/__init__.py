"""Rendering Flux objects into the Kubernetes objects they produce (Helm charts: :mod:`.helm`)."""
