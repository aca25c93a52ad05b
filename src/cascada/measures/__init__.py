"""Resilience planning: criticality ranking, risk-reduction measures, cost-benefit."""

from cascada.measures.criticality import criticality_ranking

__all__ = ["criticality_ranking"]
