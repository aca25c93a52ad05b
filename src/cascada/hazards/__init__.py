"""Hazard families: each module registers its model (cascada.hazards.registry).

Importing this package registers every model, so `cascada hazards list`, the
scenario files and the CLI can find them by name. Heavy optional libraries
(pygmm, xclim, pyflwdir) are imported only when a model runs.
"""

from cascada.hazards import (  # noqa: F401  (importing registers the models)
    attack,
    drought,
    earthquake,
    flashflood,
    plume,
    tsunami,
    wildfire,
)
