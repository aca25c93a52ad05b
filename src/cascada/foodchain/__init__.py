"""Food-chain tracing: FoodChain-Lab data, forward/backward traces, FCL scores,
probabilistic source ranking, recalls, and closures that feed the cascade.

The pipeline::

    read_network (FCL JSON / CSV) → Tracer (compiled CSR, options)
        → trace forward / backward, fcl_scores, rank_sources
        → recall, closure_eventset (an "attack" EventSet: damage state 4)
"""

from cascada.foodchain.closures import (
    closure_eventset,
    closure_list,
    match_stations_to_assets,
)
from cascada.foodchain.fcl_io import (
    fcl_to_network,
    network_to_fcl,
    read_csv_network,
    read_fcl_json,
    read_network,
    write_csv_network,
    write_fcl_json,
)
from cascada.foodchain.generator import LayerSpec, generate_network, simulate_outbreak
from cascada.foodchain.graph import DeliveryGraph, compile_graph
from cascada.foodchain.model import FoodNetwork
from cascada.foodchain.recall import Recall, recall
from cascada.foodchain.scores import Scores, fcl_scores
from cascada.foodchain.sources import WalkModel, rank_sources, read_cases
from cascada.foodchain.trace import (
    TraceOptions,
    Tracer,
    TraceResult,
    trace_backward,
    trace_forward,
)

__all__ = [
    "DeliveryGraph",
    "FoodNetwork",
    "LayerSpec",
    "Recall",
    "Scores",
    "TraceOptions",
    "TraceResult",
    "Tracer",
    "WalkModel",
    "closure_eventset",
    "closure_list",
    "compile_graph",
    "fcl_scores",
    "fcl_to_network",
    "generate_network",
    "match_stations_to_assets",
    "network_to_fcl",
    "rank_sources",
    "read_cases",
    "read_csv_network",
    "read_fcl_json",
    "read_network",
    "recall",
    "simulate_outbreak",
    "trace_backward",
    "trace_forward",
    "write_csv_network",
    "write_fcl_json",
]
