"""How a campaign value is shown on one line: shared by reports and by messages about writes.

Hidden characters (controls, bidi, zero-width) are escaped (``sanitize``), so the line is safe
to print. Pure: standard library and ``sanitize`` only.
"""

from __future__ import annotations

import json
from typing import Any

from campaign_sync.sanitize import escape


def show(value: Any) -> str:
    """A value as one line: strings quoted, lists and mappings as compact JSON, absent as (none)."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return escape(json.dumps(value, ensure_ascii=False))
    if isinstance(value, dict) and set(value) == {"start", "end"}:
        return escape(f"{value['start']} - {value['end']}")
    return escape(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(", ", ": "), default=str))
