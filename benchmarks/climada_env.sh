#!/usr/bin/env bash
# Create the CLIMADA benchmark environment used by benchmarks/damage_vs_climada.py.
#
#   bash benchmarks/climada_env.sh            # idempotent; ~4-5 min the first time
#
# CLIMADA is never a cascada dependency: it lives in its own virtual environment,
# benchmarks/.venv-climada (gitignore it). CLIMADA builds the GDAL Python bindings
# from source, so Debian's libgdal-dev must be present (installed here with apt-get
# when gdal-config is missing; needs root). Only the package registries are used.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${CLIMADA_VENV:-$here/.venv-climada}"
python="${PYTHON:-python3}"

if ! command -v gdal-config >/dev/null 2>&1; then
    echo "[climada_env] gdal-config missing: installing libgdal-dev (apt-get)" >&2
    sudo_cmd=""
    if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
    $sudo_cmd apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y libgdal-dev
fi
gdal_version="$(gdal-config --version)"
echo "[climada_env] system GDAL $gdal_version" >&2

if [ ! -x "$venv/bin/python" ]; then
    echo "[climada_env] creating $venv" >&2
    "$python" -m venv "$venv"
fi

if ! "$venv/bin/python" -m pip show climada >/dev/null 2>&1; then
    "$venv/bin/python" -m pip install --upgrade pip wheel setuptools
    # The GDAL bindings must match the system library (Debian bookworm: 3.6.2).
    "$venv/bin/python" -m pip install "gdal==$gdal_version" climada
fi

"$venv/bin/python" - <<'PY'
from importlib.metadata import version
print("climada", version("climada"))
PY
