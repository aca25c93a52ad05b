"""Physical protection of CBRN sites and crowded places (Sandia/Garcia method).

Site model as data (:mod:`.site`), EASI probability of interruption and its
Monte-Carlo check (:mod:`.easi`), most vulnerable path over the adversary
sequence diagram (:mod:`.paths`), upgrades and portfolios (:mod:`.upgrades`),
crowded places from OSM with police response over the roads (:mod:`.crowded`),
and the HTML report (:mod:`.report`). See ``docs/protection.md``.
"""

from cascada.protection.easi import (
    probability_of_effectiveness,
    probability_of_interruption,
    simulate_interruption,
)
from cascada.protection.paths import (
    PathResult,
    SiteEvaluation,
    critical_detection_path,
    enumerate_paths,
    evaluate_paths,
    evaluate_site,
    most_vulnerable_path,
    path_timeline,
)
from cascada.protection.site import Site, load_site, site_from_dict
from cascada.protection.upgrades import (
    Portfolio,
    UpgradeOption,
    apply_options,
    choose_portfolio,
    interruption_uncertainty,
    load_options,
    rank_options,
)

__all__ = [
    "PathResult",
    "Portfolio",
    "Site",
    "SiteEvaluation",
    "UpgradeOption",
    "apply_options",
    "choose_portfolio",
    "critical_detection_path",
    "enumerate_paths",
    "evaluate_paths",
    "evaluate_site",
    "interruption_uncertainty",
    "load_options",
    "load_site",
    "most_vulnerable_path",
    "path_timeline",
    "probability_of_effectiveness",
    "probability_of_interruption",
    "rank_options",
    "simulate_interruption",
    "site_from_dict",
]
