"""homeops: understand, check, graph, render and safely write Flux GitOps homelab repositories."""

__version__ = "0.1.0"
