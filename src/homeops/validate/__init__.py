"""Schema validation: would the API server accept what Flux applies?

``sources`` finds the schemas on this machine (Kubernetes from the ``kubernetes-validate`` package, Flux
from ``data/flux-schemas.json``, shipped with homeops, CRDs from the repository), ``openapi`` turns the
Kubernetes and CRD schemas into JSON Schema with the API server's semantics (``fluxmodels`` did the same
for Flux's, once, at development time), ``catalog`` keeps them in the content-addressed cache and
compiles one validator per kind, ``engine`` validates objects and says where each problem was written.
"""
