"""The runtime half of the domain: what the controllers do after a push, as executable state machines.

Pure data and functions, no I/O: :mod:`homeops.runtime.machines` holds one machine per kind
(``MACHINES``) and ``classify(kind, obj)`` names the state of a live object; the simulation
(:mod:`homeops.simulate`) and the live-cluster commands read them.
"""
