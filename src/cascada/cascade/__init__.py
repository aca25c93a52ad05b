"""Cascade: the compiled dependency graph and time-stepped service propagation.

:func:`compile_graph` turns the region's dependency table into CSR arrays;
:func:`propagate` runs up to 64 Monte-Carlo samples at once (one bit each)
hour by hour and returns a :class:`CascadeState`; :func:`propagate_reference`
is the plain one-sample version the tests hold it to.
"""

from cascada.cascade.graph import CompiledGraph, compile_graph
from cascada.cascade.propagate import CascadeState, propagate, propagate_many, sample_mask
from cascada.cascade.reference import propagate_reference

__all__ = [
    "CascadeState",
    "CompiledGraph",
    "compile_graph",
    "propagate",
    "propagate_many",
    "propagate_reference",
    "sample_mask",
]
