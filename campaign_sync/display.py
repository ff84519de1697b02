"""How a campaign value is shown on one line: shared by reports and by messages about writes.

Pure: standard library only.
"""

from __future__ import annotations

import json
from typing import Any


def show(value: Any) -> str:
    """A value as one line: strings quoted, lists and mappings as compact JSON, absent as (none)."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dict) and set(value) == {"start", "end"}:
        return f"{value['start']} - {value['end']}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "))
