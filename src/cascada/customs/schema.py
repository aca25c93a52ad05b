"""Declaration tables: a declared column mapping, reading and validation.

A customs office's declaration file is read through a :class:`Schema` that maps
cascada's canonical field names (``importer_id``, ``hs6_code``,
``net_mass_kg`` ...) to the office's own column names. The default schema is the
one of the Customs Import Declaration Datasets (Jeong et al. 2022); another
office declares its own in TOML::

    [columns]
    declaration_id = "DECL_NO"
    date = "ACCEPT_DATE"
    importer_id = "IMP_TIN"
    hs6_code = "HS"
    net_mass_kg = "NET_KG"
    item_price = "CIF_VALUE"

    [target]
    fraud = "INSPECTION_RESULT"          # 1 fraud, 0 clean
    critical_fraud = "SEVERITY"          # optional
    critical_level = 2                   # values >= this count as critical

    [ignore]
    columns = ["REMARKS"]                # columns in the file that are not used

Only the fields a schema names are used; features that need a field the office
does not have are left out. Every column of a file must be either mapped or
listed under ``[ignore]``: an unknown column is an error, so a renamed column is
never dropped silently.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cascada.errors import CascadaInputError

#: canonical field → kind. ``id``: the declaration key; ``date``; ``category``:
#: a code treated as a label; ``hs``: a 6-digit HS code (split into HS2/HS4/HS6);
#: ``amount``: a non-negative number.
FIELD_KINDS: dict[str, str] = {
    "declaration_id": "id",
    "date": "date",
    "office_id": "category",
    "process_type": "category",
    "import_type": "category",
    "import_use": "category",
    "payment_type": "category",
    "transport_mode": "category",
    "declarant_id": "category",
    "importer_id": "category",
    "seller_id": "category",
    "courier_id": "category",
    "hs6_code": "hs",
    "departure_country": "category",
    "origin_country": "category",
    "tax_type": "category",
    "origin_indicator": "category",
    "tax_rate_pct": "amount",
    "net_mass_kg": "amount",
    "item_price": "amount",
}

#: plain words for each canonical field (used in explanations and docs).
FIELD_LABELS: dict[str, str] = {
    "declaration_id": "declaration",
    "date": "declaration date",
    "office_id": "customs office",
    "process_type": "process type",
    "import_type": "import type",
    "import_use": "import use",
    "payment_type": "payment type",
    "transport_mode": "mode of transport",
    "declarant_id": "declarant",
    "importer_id": "importer",
    "seller_id": "seller",
    "courier_id": "courier",
    "hs6_code": "HS code",
    "departure_country": "country of departure",
    "origin_country": "country of origin",
    "tax_type": "tax type",
    "origin_indicator": "origin indicator",
    "tax_rate_pct": "tax rate",
    "net_mass_kg": "net mass",
    "item_price": "declared price",
}

REQUIRED_FIELDS = ("declaration_id", "date")

#: the Customs Import Declaration Datasets (Jeong et al. 2022), English columns.
DEFAULT_COLUMNS: dict[str, str] = {
    "declaration_id": "Declaration ID",
    "date": "Date",
    "office_id": "Office ID",
    "process_type": "Process Type",
    "import_type": "Import Type",
    "import_use": "Import Use",
    "payment_type": "Payment Type",
    "transport_mode": "Mode of Transport",
    "declarant_id": "Declarant ID",
    "importer_id": "Importer ID",
    "seller_id": "Seller ID",
    "courier_id": "Courier ID",
    "hs6_code": "HS6 Code",
    "departure_country": "Country of Departure",
    "origin_country": "Country of Origin",
    "tax_rate_pct": "Tax Rate",
    "tax_type": "Tax Type",
    "origin_indicator": "Country of Origin Indicator",
    "net_mass_kg": "Net Mass",
    "item_price": "Item Price",
}


@dataclass(frozen=True)
class Schema:
    """Which column of an office's file holds each canonical field.

    columns: canonical field → the file's column name.
    fraud_column / critical_column: the label columns (may be absent in a
    scoring file). critical_level: a ``critical_column`` value ≥ this is a
    critical fraud (in the benchmark data 0 clean, 1 fraud, 2 critical fraud).
    ignore: columns present in files that are deliberately not used.
    """

    columns: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLUMNS))
    fraud_column: str = "Fraud"
    critical_column: str | None = "Critical Fraud"
    critical_level: int = 2
    ignore: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(FIELD_KINDS))
        if unknown:
            raise CascadaInputError(
                f"unknown canonical field {unknown[0]!r} in schema", field=unknown[0],
                hint="known fields: " + ", ".join(FIELD_KINDS),
            )
        for name in REQUIRED_FIELDS:
            if name not in self.columns:
                raise CascadaInputError("schema does not map a required field", field=name)

    @property
    def fields(self) -> list[str]:
        """Canonical fields present, in canonical order."""
        return [f for f in FIELD_KINDS if f in self.columns]

    def to_dict(self) -> dict:
        """A JSON/TOML-ready description (inverse of :meth:`from_dict`)."""
        target: dict[str, object] = {"fraud": self.fraud_column,
                                     "critical_level": self.critical_level}
        if self.critical_column is not None:
            target["critical_fraud"] = self.critical_column
        return {"columns": dict(self.columns), "target": target,
                "ignore": {"columns": list(self.ignore)}}

    @classmethod
    def from_dict(cls, data: dict, *, file: str | Path | None = None) -> Schema:
        """Build a schema from a parsed TOML/JSON mapping."""
        columns = data.get("columns")
        if not isinstance(columns, dict) or not columns:
            raise CascadaInputError("schema needs a [columns] table", file=file,
                                    field="columns")
        target = data.get("target", {})
        ignore = data.get("ignore", {}).get("columns", [])
        try:
            return cls(
                columns={str(k): str(v) for k, v in columns.items()},
                fraud_column=str(target.get("fraud", "Fraud")),
                critical_column=(str(target["critical_fraud"])
                                 if target.get("critical_fraud") else None),
                critical_level=int(target.get("critical_level", 2)),
                ignore=tuple(str(c) for c in ignore),
            )
        except CascadaInputError as exc:
            raise CascadaInputError(exc.message, file=file, field=exc.field,
                                    hint=exc.hint) from None


def load_schema(path: str | Path | None) -> Schema:
    """Read a schema TOML; ``None`` gives the default (benchmark) schema."""
    if path is None:
        return Schema()
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("schema file not found", file=path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CascadaInputError(f"not valid TOML ({exc})", file=path) from None
    return Schema.from_dict(data, file=path)


def _line(index: int) -> int:
    """File line of a data row (line 1 is the header)."""
    return int(index) + 2


def validate_declarations(
    raw: pd.DataFrame,
    schema: Schema,
    *,
    require_target: bool = False,
    file: str | Path | None = None,
) -> pd.DataFrame:
    """Check an office's table and return it with canonical column names.

    Returns: one row per declaration with the schema's canonical fields
    (categories as strings, ``date`` as datetime64, amounts as float64) and,
    when present, ``fraud`` (0/1, int8) and ``critical_fraud`` (0/1, int8).
    Raises :class:`CascadaInputError` naming the file, row (file line) and
    column of the first problem.
    """
    if len(raw) == 0:
        raise CascadaInputError("no declarations (empty file)", file=file,
                                hint="the file needs a header and at least one row")
    targets = [schema.fraud_column]
    if schema.critical_column:
        targets.append(schema.critical_column)
    known = set(schema.columns.values()) | set(schema.ignore) | set(targets)
    for column in raw.columns:
        if column not in known:
            raise CascadaInputError(
                "unknown column", file=file, field=str(column),
                hint="map it in the schema's [columns] or list it under [ignore]",
            )
    for name, column in schema.columns.items():
        if column not in raw.columns:
            raise CascadaInputError(
                f"missing column (schema field {name!r})", file=file, field=column,
                hint="the model or schema needs it; check the file's header",
            )
    if require_target and schema.fraud_column not in raw.columns:
        raise CascadaInputError("missing target column", file=file, field=schema.fraud_column,
                                hint="training and evaluation need the fraud label")

    out: dict[str, object] = {}
    for name in schema.fields:
        column = schema.columns[name]
        values = raw[column]
        kind = FIELD_KINDS[name]
        if kind == "date":
            parsed = pd.to_datetime(values, errors="coerce", format="mixed")
            bad = np.flatnonzero(parsed.isna().to_numpy())
            if len(bad):
                raise CascadaInputError(
                    f"date does not parse: {values.iloc[bad[0]]!r}", file=file,
                    row=_line(bad[0]), field=column, hint="use ISO dates, e.g. 2021-03-31",
                )
            out[name] = parsed.to_numpy(dtype="datetime64[ns]")
        elif kind == "amount":
            numbers = pd.to_numeric(values, errors="coerce")
            bad = np.flatnonzero(numbers.isna().to_numpy() & values.notna().to_numpy())
            if len(bad):
                raise CascadaInputError(f"not a number: {values.iloc[bad[0]]!r}", file=file,
                                        row=_line(bad[0]), field=column)
            array = numbers.to_numpy(dtype=np.float64)
            negative = np.flatnonzero(array < 0)
            if len(negative):
                raise CascadaInputError(
                    f"negative value {array[negative[0]]:g}", file=file,
                    row=_line(negative[0]), field=column, hint="masses and prices are ≥ 0",
                )
            out[name] = array
        elif kind == "hs":
            text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
            bad = np.flatnonzero(~text.fillna("").str.fullmatch(r"\d{1,10}").to_numpy())
            if len(bad):
                raise CascadaInputError(f"HS code is not digits: {values.iloc[bad[0]]!r}",
                                        file=file, row=_line(bad[0]), field=column)
            out[name] = text.str.zfill(6).str.slice(0, 6).to_numpy(dtype=object)
        else:
            text = values.astype("string").fillna("")
            if kind == "id":
                empty = np.flatnonzero((text == "").to_numpy())
                if len(empty):
                    raise CascadaInputError("empty declaration id", file=file,
                                            row=_line(empty[0]), field=column)
            out[name] = text.to_numpy(dtype=object)
    table = pd.DataFrame(out)
    for label, column in (("fraud", schema.fraud_column),
                          ("critical_fraud", schema.critical_column)):
        if column is None or column not in raw.columns:
            continue
        numbers = pd.to_numeric(raw[column], errors="coerce")
        bad = np.flatnonzero(numbers.isna().to_numpy() | (numbers < 0).to_numpy())
        if label == "fraud":
            bad = np.flatnonzero(~numbers.isin([0, 1]).to_numpy())
        if len(bad):
            raise CascadaInputError(
                f"label must be {'0 or 1' if label == 'fraud' else 'a level ≥ 0'}: "
                f"{raw[column].iloc[bad[0]]!r}", file=file, row=_line(bad[0]), field=column,
            )
        values = numbers.to_numpy()
        table[label] = ((values >= schema.critical_level) if label == "critical_fraud"
                        else values == 1).astype(np.int8)
    return table


def read_declarations(
    path: str | Path,
    schema: Schema | None = None,
    *,
    require_target: bool = False,
) -> pd.DataFrame:
    """Read a declaration CSV (or Parquet) through ``schema`` and validate it.

    See :func:`validate_declarations` for the returned table.
    """
    schema = schema or Schema()
    path = Path(path)
    if not path.exists():
        raise CascadaInputError("declaration file not found", file=path)
    if path.stat().st_size == 0:
        raise CascadaInputError("no declarations (empty file)", file=path)
    try:
        if path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(path)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=True, na_values=[""])
    except pd.errors.EmptyDataError:
        raise CascadaInputError("no declarations (empty file)", file=path) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CascadaInputError(f"cannot read as CSV ({exc})", file=path) from None
    return validate_declarations(raw, schema, require_target=require_target, file=path)
