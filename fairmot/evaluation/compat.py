"""COMPAT SHIMS for motmetrics 1.4.0 on numpy 2 / pandas 3. Everything version-specific is here.

motmetrics 1.4.0 (the latest release) still calls two removed APIs:
- `np.asfarray` (removed in numpy 2.0) in `motmetrics.distances.iou_matrix`;
- `DataFrame.append` (removed in pandas 2.0) in `MOTAccumulator.merge_event_dataframes`.
`apply()` restores the first as an alias and replaces the second with a pd.concat version. It is
idempotent; `fairmot.evaluation` calls it once when motmetrics is first needed.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

_applied = False


def _asfarray(a: Any, dtype: Any = np.float64) -> np.ndarray:
    if not np.issubdtype(np.dtype(dtype), np.inexact):
        dtype = np.float64
    return np.asarray(a, dtype=dtype)


def _merge_event_dataframes(
    dfs: Any,
    update_frame_indices: bool = True,
    update_oids: bool = True,
    update_hids: bool = True,
    return_mappings: bool = False,
) -> Any:
    """motmetrics' merge_event_dataframes with the same semantics, using pd.concat."""
    import motmetrics as mm
    import pandas as pd

    mapping_infos = []
    new_oid = itertools.count()
    new_hid = itertools.count()
    parts = [mm.MOTAccumulator.new_event_dataframe()]
    next_frame_id = 0
    for df in dfs:
        events = df.events if isinstance(df, mm.MOTAccumulator) else df
        copy = events.copy()
        infos: dict[str, Any] = {}
        if update_frame_indices:
            offset = next_frame_id
            copy.index = copy.index.map(lambda x, offset=offset: (x[0] + offset, x[1]))
            infos["frame_offset"] = offset
            frames = copy.index.get_level_values(0)
            if len(frames):
                next_frame_id = max(int(frames.max()) + 1, next_frame_id + frames.unique().shape[0])
        if update_oids:
            oid_map = {oid: str(next(new_oid)) for oid in copy["OId"].dropna().unique()}
            copy["OId"] = copy["OId"].map(lambda x, m=oid_map: m[x], na_action="ignore")
            infos["oid_map"] = oid_map
        if update_hids:
            hid_map = {hid: str(next(new_hid)) for hid in copy["HId"].dropna().unique()}
            copy["HId"] = copy["HId"].map(lambda x, m=hid_map: m[x], na_action="ignore")
            infos["hid_map"] = hid_map
        parts.append(copy)
        mapping_infos.append(infos)
    merged = pd.concat(parts)
    return (merged, mapping_infos) if return_mappings else merged


def apply() -> None:
    """Install the shims (once)."""
    global _applied
    if _applied:
        return
    import motmetrics as mm

    if not hasattr(np, "asfarray"):
        np.asfarray = _asfarray  # type: ignore[attr-defined]
    mm.MOTAccumulator.merge_event_dataframes = staticmethod(_merge_event_dataframes)
    _applied = True
