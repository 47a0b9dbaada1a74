"""Reading a cluster: live through the Kubernetes API (read-only), or from a snapshot file."""
