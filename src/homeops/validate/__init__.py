"""Schema validation: would the API server accept what Flux applies?

``sources`` finds the schemas on this machine (Kubernetes from the ``kubernetes-validate`` package, Flux
from the ``@kubernetes-models/flux-cd`` package, CRDs from the repository), ``openapi`` and ``fluxmodels``
turn them into JSON Schema with the API server's semantics, ``catalog`` keeps them in the
content-addressed cache and compiles one validator per kind, ``engine`` validates objects and says where
each problem was written.
"""
