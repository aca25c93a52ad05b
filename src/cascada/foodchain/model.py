"""The supply network of a food-chain investigation, as columnar tables.

Three tables, validated here at the boundary and nowhere else:

``stations`` (DataFrame), one row per food business or consumer
    station_id (str, unique), name (str), station_type (str), latitude,
    longitude (float degrees, EPSG:4326, NaN unknown), and the tracing flags
    weight (float; > 0 marks a case, < 0 evidence against), cross_contamination,
    kill_contamination, observed (bool).

``deliveries`` (DataFrame), one row per delivery of one lot from one station to another
    delivery_id (str, unique), supplier, recipient (station_id), product (str),
    lot (str; a lot is identified by (supplier, lot)), departure, arrival
    (partial ISO dates ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``; "" unknown),
    amount (float >= 0, NaN unknown), unit (str), and the same tracing flags
    as stations.

``relations`` (DataFrame), one row per delivery-to-delivery link
    from_delivery, to_delivery (delivery_id): ``from_delivery`` arrived at a
    station and went into the lot that ``to_delivery`` carries away from it.

Properties that cascada does not interpret (addresses, geocoding, free text)
travel unchanged in ``station_properties`` and ``delivery_properties``, one
row per station / delivery in the same order, so files round-trip.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

from cascada.errors import CascadaInputError

STATION_COLUMNS = ["station_id", "name", "station_type", "latitude", "longitude"]
DELIVERY_COLUMNS = ["delivery_id", "supplier", "recipient", "product", "lot",
                    "departure", "arrival", "amount", "unit"]
RELATION_COLUMNS = ["from_delivery", "to_delivery"]
TRACING_COLUMNS = ["weight", "cross_contamination", "kill_contamination", "observed"]

_ISO = re.compile(
    r"^\s*(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?(?:[T ]\d{1,2}:\d{2}\S*)?\s*(?:\(.*\))?\s*$"
)
_DOTTED = re.compile(r"^\s*(?:(\d{1,2})\.)?(\d{1,2})\.(\d{4})\s*$")
_SLASHED = re.compile(r"^\s*(?:(\d{1,2})/)?(\d{1,2})/(\d{4})\s*$")


def parse_partial_date(value: object) -> tuple[int, int, int]:
    """(year, month, day) of a possibly partial date; 0 marks an unknown part.

    Accepts ``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` (with an optional time or a
    remark in brackets such as ``2016-01 (day unknown)``), ``DD.MM.YYYY``,
    ``MM.YYYY``, ``DD/MM/YYYY``; None, NaN and "" are unknown (0, 0, 0).
    Raises ValueError on anything else or on an impossible month or day.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return (0, 0, 0)
    text = str(value).strip()
    if not text:
        return (0, 0, 0)
    match = _ISO.match(text)
    if match:
        year, month, day = (int(g) if g else 0 for g in match.groups())
    else:
        match = _DOTTED.match(text) or _SLASHED.match(text)
        if not match:
            raise ValueError(f"unreadable date {text!r}")
        day, month, year = (int(g) if g else 0 for g in match.groups())
    if not 0 <= month <= 12 or not 0 <= day <= 31 or (month == 0 and day):
        raise ValueError(f"impossible date {text!r}")
    return (year, month, day)


def format_partial_date(year: int, month: int, day: int) -> str:
    """ISO text of a partial date: ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or ""."""
    if not year:
        return ""
    if not month:
        return f"{year:04d}"
    if not day:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def parse_date_column(values: pd.Series, column: str, ids: pd.Series, file: str | None
                      ) -> np.ndarray:
    """n × 3 int32 (year, month, day) of a date column; raises naming the delivery."""
    inverse, unique = pd.factorize(values.fillna("").astype(str).to_numpy(dtype=object))
    # few distinct dates: parse each once
    parsed = np.zeros((len(unique), 3), dtype=np.int32)
    for j, value in enumerate(unique):
        try:
            parsed[j] = parse_partial_date(value)
        except ValueError as exc:
            i = int(np.flatnonzero(inverse == j)[0])
            raise CascadaInputError(str(exc), file=file, row=f"delivery {ids.iloc[i]!r}",
                                    field=column,
                                    hint="use YYYY-MM-DD, YYYY-MM or YYYY") from None
    return parsed[inverse.reshape(-1)]


def format_date_column(ymd: np.ndarray) -> np.ndarray:
    """ISO text (object array) of n × 3 partial dates, formatting each distinct date once."""
    ymd = np.asarray(ymd, dtype=np.int32).reshape(-1, 3)
    if len(ymd) == 0:
        return np.empty(0, dtype=object)
    inverse, unique = pd.factorize(date_key(ymd))
    text = np.array([format_partial_date(k // 10000, (k // 100) % 100, k % 100)
                     for k in unique], dtype=object)
    return text[inverse]


def date_key(ymd: np.ndarray) -> np.ndarray:
    """Sortable int key YYYYMMDD of n × 3 partial dates (unknown parts as 0)."""
    ymd = np.asarray(ymd, dtype=np.int64)
    return ymd[:, 0] * 10000 + ymd[:, 1] * 100 + ymd[:, 2]


def maybe_before(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Whether partial date ``first`` may be on or before ``second`` (n × 3 each).

    Unknown parts are generous: 2016-01 may be before 2016-01-05 and after it.
    """
    y1, m1, d1 = first[:, 0], first[:, 1], first[:, 2]
    y2, m2, d2 = second[:, 0], second[:, 1], second[:, 2]
    same_month_ok = (d1 == 0) | (d2 == 0) | (d2 >= d1)
    same_year_ok = (m1 == 0) | (m2 == 0) | (m2 > m1) | ((m2 == m1) & same_month_ok)
    return (y1 == 0) | (y2 == 0) | (y2 > y1) | ((y2 == y1) & same_year_ok)


def _flag(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.lower()
    return (text.isin(["true", "1", "yes", "y", "1.0"])).to_numpy()


@dataclass
class FoodNetwork:
    """Stations, deliveries and delivery relations of one investigation.

    Build one with :meth:`FoodNetwork.from_tables` (validates); read one with
    :func:`cascada.foodchain.fcl_io.read_network`.
    """

    stations: pd.DataFrame
    deliveries: pd.DataFrame
    relations: pd.DataFrame
    station_properties: pd.DataFrame = field(default_factory=pd.DataFrame)
    delivery_properties: pd.DataFrame = field(default_factory=pd.DataFrame)
    metadata: dict = field(default_factory=dict)

    @classmethod
    def from_tables(
        cls,
        deliveries: pd.DataFrame,
        stations: pd.DataFrame | None = None,
        relations: pd.DataFrame | None = None,
        *,
        station_properties: pd.DataFrame | None = None,
        delivery_properties: pd.DataFrame | None = None,
        metadata: dict | None = None,
        lots: pd.DataFrame | None = None,
        file: str | None = None,
    ) -> FoodNetwork:
        """Validate and normalise the three tables.

        stations may be None: one station per id named in the deliveries.
        lots: optional declared lots (columns lot, station_id): every delivery
        that names a lot must then name a declared lot of its supplier.
        Raises CascadaInputError naming the record on duplicate ids, deliveries
        from or to unknown stations, relations naming unknown deliveries or
        crossing stations, arrival before departure, negative amounts and
        cyclic lot relations.
        """
        deliveries = deliveries.reset_index(drop=True).copy()
        for column in ("delivery_id", "supplier", "recipient"):
            if column not in deliveries.columns:
                raise CascadaInputError("missing column", file=file, field=column)
            missing = deliveries[column].isna() | (deliveries[column].astype(str) == "")
            if missing.any():
                row = int(np.flatnonzero(missing.to_numpy())[0])
                raise CascadaInputError("empty value", file=file, row=f"delivery row {row}",
                                        field=column)
            deliveries[column] = deliveries[column].astype(str)
        if stations is None:
            ids = pd.unique(np.concatenate([deliveries["supplier"].to_numpy(),
                                            deliveries["recipient"].to_numpy()]))
            stations = pd.DataFrame({"station_id": ids, "name": ids})
        stations = stations.reset_index(drop=True).copy()
        if "station_id" not in stations.columns:
            raise CascadaInputError("missing column", file=file, field="station_id")
        stations["station_id"] = stations["station_id"].astype(str)
        stations = cls._normalise_stations(stations, file)
        deliveries = cls._normalise_deliveries(deliveries, set(stations["station_id"]), file)
        if lots is not None:
            _check_lots(deliveries, lots, file)
        if relations is None:
            relations = pd.DataFrame(columns=RELATION_COLUMNS)
        relations = cls._normalise_relations(relations.reset_index(drop=True), deliveries, file)
        network = cls(
            stations=stations,
            deliveries=deliveries,
            relations=relations,
            station_properties=(station_properties.reset_index(drop=True)
                                if station_properties is not None
                                else pd.DataFrame(index=range(len(stations)))),
            delivery_properties=(delivery_properties.reset_index(drop=True)
                                 if delivery_properties is not None
                                 else pd.DataFrame(index=range(len(deliveries)))),
            metadata=dict(metadata or {}),
        )
        network._check_acyclic(file)
        return network

    @staticmethod
    def _normalise_stations(stations: pd.DataFrame, file: str | None) -> pd.DataFrame:
        duplicated = stations["station_id"].duplicated()
        if duplicated.any():
            sid = stations["station_id"][duplicated].iloc[0]
            raise CascadaInputError("duplicate station id", file=file, row=f"station {sid!r}",
                                    field="station_id")
        if "name" not in stations.columns:
            stations["name"] = stations["station_id"]
        stations["name"] = stations["name"].fillna(stations["station_id"]).astype(str)
        if "station_type" not in stations.columns:
            stations["station_type"] = ""
        stations["station_type"] = stations["station_type"].fillna("").astype(str)
        for column in ("latitude", "longitude"):
            if column not in stations.columns:
                stations[column] = np.nan
            values = pd.to_numeric(stations[column], errors="coerce")
            bad = values.isna() & stations[column].notna() & (stations[column].astype(str) != "")
            if bad.any():
                sid = stations["station_id"][bad].iloc[0]
                raise CascadaInputError("not a number", file=file, row=f"station {sid!r}",
                                        field=column)
            stations[column] = values.astype(float)
        stations = _normalise_tracing(stations, "station", "station_id", file)
        return stations[STATION_COLUMNS + TRACING_COLUMNS]

    @staticmethod
    def _normalise_deliveries(deliveries: pd.DataFrame, station_ids: set[str],
                              file: str | None) -> pd.DataFrame:
        ids = deliveries["delivery_id"]
        duplicated = ids.duplicated()
        if duplicated.any():
            raise CascadaInputError("duplicate delivery id", file=file,
                                    row=f"delivery {ids[duplicated].iloc[0]!r}",
                                    field="delivery_id")
        known = pd.Index(sorted(station_ids))
        for column in ("supplier", "recipient"):
            unknown = known.get_indexer(deliveries[column].to_numpy(dtype=object)) < 0
            if unknown.any():
                i = int(np.flatnonzero(unknown)[0])
                raise CascadaInputError(
                    f"unknown station {deliveries[column].iloc[i]!r}", file=file,
                    row=f"delivery {ids.iloc[i]!r}", field=column,
                    hint="every supplier and recipient must be a station id",
                )
        for column in ("product", "lot", "unit"):
            if column not in deliveries.columns:
                deliveries[column] = ""
            deliveries[column] = deliveries[column].fillna("").astype(str)
        departure = parse_date_column(deliveries.get("departure", pd.Series([""] * len(ids))),
                           "departure", ids, file)
        arrival = parse_date_column(deliveries.get("arrival", pd.Series([""] * len(ids))),
                         "arrival", ids, file)
        both = (departure[:, 0] > 0) & (arrival[:, 0] > 0)
        wrong = both & ~maybe_before(departure, arrival)
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            raise CascadaInputError(
                f"arrives ({format_partial_date(*arrival[i])}) before it departs "
                f"({format_partial_date(*departure[i])})", file=file,
                row=f"delivery {ids.iloc[i]!r}", field="arrival",
            )
        deliveries["departure"] = format_date_column(departure)
        deliveries["arrival"] = format_date_column(arrival)
        if "amount" not in deliveries.columns:
            deliveries["amount"] = np.nan
        amount = pd.to_numeric(deliveries["amount"], errors="coerce")
        bad = amount.isna() & deliveries["amount"].notna() & (
            deliveries["amount"].astype(str).str.strip() != "")
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise CascadaInputError("amount is not a number", file=file,
                                    row=f"delivery {ids.iloc[i]!r}", field="amount")
        negative = (amount < 0).to_numpy()
        if negative.any():
            i = int(np.flatnonzero(negative)[0])
            raise CascadaInputError(f"negative amount {amount.iloc[i]:g}", file=file,
                                    row=f"delivery {ids.iloc[i]!r}", field="amount",
                                    hint="amounts are quantities delivered, >= 0")
        deliveries["amount"] = amount.astype(float)
        deliveries = _normalise_tracing(deliveries, "delivery", "delivery_id", file)
        return deliveries[DELIVERY_COLUMNS + TRACING_COLUMNS]

    @staticmethod
    def _normalise_relations(relations: pd.DataFrame, deliveries: pd.DataFrame,
                             file: str | None) -> pd.DataFrame:
        for column in RELATION_COLUMNS:
            if column not in relations.columns:
                raise CascadaInputError("missing column", file=file, field=column)
        relations = relations[RELATION_COLUMNS].astype(str).drop_duplicates()
        relations = relations.reset_index(drop=True)
        index = pd.Index(deliveries["delivery_id"].to_numpy(dtype=object))
        for column in RELATION_COLUMNS:
            unknown = index.get_indexer(relations[column].to_numpy(dtype=object)) < 0
            if unknown.any():
                i = int(np.flatnonzero(unknown)[0])
                raise CascadaInputError(
                    f"unknown delivery {relations[column].iloc[i]!r}", file=file,
                    row=f"relation {relations['from_delivery'].iloc[i]!r} -> "
                        f"{relations['to_delivery'].iloc[i]!r}",
                    field=column,
                )
        src = index.get_indexer(relations["from_delivery"])
        dst = index.get_indexer(relations["to_delivery"])
        recipient = deliveries["recipient"].to_numpy()
        supplier = deliveries["supplier"].to_numpy()
        crossing = recipient[src] != supplier[dst]
        if crossing.any():
            i = int(np.flatnonzero(crossing)[0])
            raise CascadaInputError(
                f"delivery {relations['from_delivery'].iloc[i]!r} arrives at "
                f"{recipient[src[i]]!r} but {relations['to_delivery'].iloc[i]!r} leaves "
                f"from {supplier[dst[i]]!r}", file=file,
                row=f"relation {relations['from_delivery'].iloc[i]!r} -> "
                    f"{relations['to_delivery'].iloc[i]!r}",
                hint="a relation links a delivery into a station to one out of the same station",
            )
        return relations

    def _check_acyclic(self, file: str | None) -> None:
        n = len(self.deliveries)
        if not len(self.relations):
            return
        src, dst = self.relation_indices()
        self_loop = src == dst
        if self_loop.any():
            did = self.deliveries["delivery_id"].iloc[src[self_loop][0]]
            raise CascadaInputError("cyclic lot relation: a delivery goes into itself",
                                    file=file, row=f"delivery {did!r}")
        graph = sparse.csr_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
        n_comp, labels = csgraph.connected_components(graph, directed=True, connection="strong")
        if n_comp == n:
            return
        sizes = np.bincount(labels)
        members = np.flatnonzero(sizes[labels] > 1)
        ids = self.deliveries["delivery_id"].to_numpy()[members]
        shown = ", ".join(repr(i) for i in ids[:6]) + (", ..." if len(ids) > 6 else "")
        raise CascadaInputError(
            f"cyclic lot relations among deliveries {shown}", file=file,
            row=f"delivery {ids[0]!r}", field="relations",
            hint="a lot cannot contain itself; check the delivery relations",
        )

    # ------------------------------------------------------------------ views
    @property
    def n_stations(self) -> int:
        return len(self.stations)

    @property
    def n_deliveries(self) -> int:
        return len(self.deliveries)

    def station_index(self) -> pd.Index:
        return pd.Index(self.stations["station_id"].to_numpy(dtype=object))

    def delivery_index(self) -> pd.Index:
        return pd.Index(self.deliveries["delivery_id"].to_numpy(dtype=object))

    def relation_indices(self) -> tuple[np.ndarray, np.ndarray]:
        """Row indices (from, to) of the relations into the deliveries table, int64."""
        index = self.delivery_index()
        return (index.get_indexer(self.relations["from_delivery"]).astype(np.int64),
                index.get_indexer(self.relations["to_delivery"]).astype(np.int64))

    def lots(self) -> pd.DataFrame:
        """One row per lot: supplier, lot, product, n_deliveries, amount (sum, NaN-skipping)."""
        table = self.deliveries[self.deliveries["lot"] != ""]
        grouped = table.groupby(["supplier", "lot"], sort=True)
        return grouped.agg(product=("product", "first"), n_deliveries=("delivery_id", "size"),
                           amount=("amount", "sum")).reset_index()

    def _lookup(self, table: pd.DataFrame, column: str) -> dict[str, int]:
        """id -> row of a table column (cached while the table object is unchanged)."""
        cache = self.__dict__.setdefault("_lookups", {})
        key = (column, id(table), len(table))
        if key not in cache:
            values = table[column].to_numpy()
            lookup: dict[str, int] = {}
            for i, value in enumerate(values):
                lookup.setdefault(value, -2 if value in lookup else i)
                if lookup[value] != i:
                    lookup[value] = -2  # ambiguous
            cache[key] = lookup
        return cache[key]

    def resolve_stations(self, names: list[str] | tuple[str, ...]) -> np.ndarray:
        """Row indices of stations given by id or, failing that, by exact name."""
        by_id = self._lookup(self.stations, "station_id")
        by_name = self._lookup(self.stations, "name")
        rows = []
        for name in names:
            i = by_id.get(name, -1)
            if i < 0:
                i = by_name.get(name, -1)
                if i == -1:
                    raise CascadaInputError(f"unknown station {name!r}", field="station",
                                            hint="give a station id or its exact name")
                if i == -2:
                    raise CascadaInputError(f"station name {name!r} is ambiguous",
                                            field="station", hint="give the station id")
            rows.append(i)
        return np.asarray(rows, dtype=np.int64)

    def resolve_deliveries(self, ids: list[str] | tuple[str, ...]) -> np.ndarray:
        """Row indices of deliveries by id; raises naming an unknown one."""
        by_id = self._lookup(self.deliveries, "delivery_id")
        rows = np.asarray([by_id.get(i, -1) for i in ids], dtype=np.int64)
        if (rows < 0).any():
            bad = list(ids)[int(np.flatnonzero(rows < 0)[0])]
            raise CascadaInputError(f"unknown delivery {bad!r}", field="delivery")
        return rows

    def resolve_lots(self, lots: list[str] | tuple[str, ...],
                     stations: np.ndarray | None = None) -> np.ndarray:
        """Row indices of every delivery of the named lots (optionally of given suppliers).

        A lot matches the ``lot`` column or, for FCL data, the ``Lot Number`` property.
        """
        table = self.deliveries
        mask = np.zeros(len(table), dtype=bool)
        sup = None
        if stations is not None and len(stations):
            sup = self.stations["station_id"].to_numpy()[stations]
        lot_number = self.delivery_properties.get("Lot Number")
        for lot in lots:
            hit = np.array(table["lot"] == lot, dtype=bool)
            if lot_number is not None and len(lot_number) == len(table):
                hit |= np.array(lot_number.astype(str) == lot, dtype=bool)
            if sup is not None:
                hit &= table["supplier"].isin(sup).to_numpy()
            if not hit.any():
                raise CascadaInputError(f"unknown lot {lot!r}", field="lot",
                                        hint="lots are named as in the deliveries' lot column")
            mask |= hit
        return np.flatnonzero(mask)


def _normalise_tracing(table: pd.DataFrame, kind: str, id_column: str,
                       file: str | None) -> pd.DataFrame:
    """Fill and check the tracing columns weight (float) and the three flags (bool)."""
    if "weight" not in table.columns:
        table["weight"] = 0.0
    weight = pd.to_numeric(table["weight"], errors="coerce")
    bad = weight.isna() & table["weight"].notna() & (table["weight"].astype(str) != "")
    if bad.any() or not np.all(np.isfinite(weight.fillna(0.0))):
        i = int(np.flatnonzero((bad | ~np.isfinite(weight.fillna(0.0))).to_numpy())[0])
        raise CascadaInputError("weight is not a finite number", file=file,
                                row=f"{kind} {table[id_column].iloc[i]!r}", field="weight")
    table["weight"] = weight.fillna(0.0).astype(float)
    for column in ("cross_contamination", "kill_contamination", "observed"):
        if column not in table.columns:
            table[column] = False
        table[column] = _flag(table[column].fillna(False))
    return table


def _check_lots(deliveries: pd.DataFrame, lots: pd.DataFrame, file: str | None) -> None:
    """Every delivery naming a lot names a declared lot of its supplier."""
    lots = lots.rename(columns={"supplier": "station_id", "station": "station_id"})
    for column in ("lot", "station_id"):
        if column not in lots.columns:
            raise CascadaInputError("missing column in the lot table", file=file, field=column)
    declared = set(zip(lots["station_id"].astype(str), lots["lot"].astype(str), strict=True))
    named = deliveries["lot"].notna() & (deliveries["lot"].astype(str) != "")
    for i in np.flatnonzero(named.to_numpy()):
        key = (str(deliveries["supplier"].iloc[i]), str(deliveries["lot"].iloc[i]))
        if key not in declared:
            raise CascadaInputError(
                f"unknown lot {key[1]!r} of station {key[0]!r}", file=file,
                row=f"delivery {deliveries['delivery_id'].iloc[i]!r}", field="lot",
                hint="every lot a delivery names must be in the lot table")
