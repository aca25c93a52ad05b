"""Cascade: the compiled dependency graph and time-stepped service propagation.

:func:`compile_graph` turns the region's dependency table into CSR arrays;
:func:`propagate` runs up to 64 Monte-Carlo samples at once (one bit each)
hour by hour and returns a :class:`CascadeState`; :func:`propagate_reference`
is the plain one-sample version the tests hold it to; :func:`propagate_sparse`
takes a few damaged assets and returns only the assets they affect.
"""

from cascada.cascade.graph import CompiledGraph, compile_graph
from cascada.cascade.propagate import CascadeState, propagate, propagate_many, sample_mask
from cascada.cascade.reference import propagate_reference
from cascada.cascade.sparse import SparseCascade, SparseWorkspace, propagate_sparse

__all__ = [
    "CascadeState",
    "CompiledGraph",
    "SparseCascade",
    "SparseWorkspace",
    "compile_graph",
    "propagate",
    "propagate_many",
    "propagate_reference",
    "propagate_sparse",
    "sample_mask",
]
