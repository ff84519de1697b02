"""One self-contained HTML page: inline CSS, no scripts, no external assets, readable on a phone.

Rendered from ``templates/drift.html.j2`` with a Jinja2 environment that autoescapes every
value, so user text (campaign names, keys, values) is always data, never markup or template code:
``{{ 7*7 }}`` in a name is shown as typed. A Content-Security-Policy meta tag forbids scripts and
remote loads as a second line of defence. Tables sit in horizontally scrolling boxes so wide
values never break the layout on a narrow screen.
"""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, Template

from campaign_sync import __version__
from campaign_sync.report.model import Report

TEMPLATE = "drift.html.j2"


@cache
def _template() -> Template:
    env = Environment(
        loader=PackageLoader("campaign_sync.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def render(report: Report) -> str:
    return _template().render(report=report, version=__version__)
