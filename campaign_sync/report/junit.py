"""JUnit XML, so CI dashboards show drift as failed tests.

Mapping (one ``<testsuite name="campaign-sync drift (<env>)">``):

* one ``<testcase classname="<campaignType>" name="<key>">`` per managed campaign (a key in the
  state or the manifests), in key order;
* a campaign with drift gets one ``<failure>``: ``type`` is its kind (``changed``, ``missing``,
  ``pending``; comma-separated when it has several, e.g. ``changed,pending``), ``message`` a
  one-line summary, the text the same lines as the text report (fields, applied -> live or
  manifest);
* a campaign in sync passes (an empty test case);
* unmanaged campaigns are not tests (they are not drift): they are listed in the suite's
  ``<system-out>``, with any warnings, so no dashboard counts them as skipped or failed.

Built with ElementTree, which escapes text and attributes; characters XML 1.0 cannot hold are
replaced with U+FFFD. The run's time is the suite's ``timestamp`` (UTC, ISO 8601 without zone,
as the JUnit schema wants) and a ``generatedAt`` property.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from campaign_sync.report.model import Report, Section
from campaign_sync.report.text import listing_lines, section_lines

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", text)


def _sub(
    parent: ET.Element, tag: str, attrs: dict[str, str] | None = None, text: str | None = None
) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: _clean(v) for k, v in (attrs or {}).items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _message(sections: Iterable[Section]) -> str:
    parts = []
    for section in sections:
        count = len(section.rows)
        if section.kind == "missing":
            parts.append(f"missing: {section.campaign_id or section.key} is gone live")
        elif section.kind == "changed":
            parts.append(f"changed: {count} field{'s' if count != 1 else ''} differ from the last apply")
        elif section.rows:
            parts.append(f"{section.label or section.kind}: {count} field{'s' if count != 1 else ''}")
        else:
            parts.append(section.label or section.kind)
    return "; ".join(parts)


def render(report: Report, suite: str) -> str:
    by_key: dict[str, list[Section]] = {}
    for section in report.sections:
        by_key.setdefault(section.key, []).append(section)
    cases = {s.key: s for s in report.in_sync}
    for key, sections in by_key.items():
        cases.setdefault(key, sections[0])
    failures = len(by_key)
    root = ET.Element(
        "testsuites",
        {"name": _clean(suite), "tests": str(len(cases)), "failures": str(failures), "errors": "0"},
    )
    attrs = {
        "name": suite,
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": "0",
        "skipped": "0",
    }
    attrs["time"] = "0"
    if report.generated_at:
        attrs["timestamp"] = report.generated_at.removesuffix("Z")
    testsuite = _sub(root, "testsuite", attrs)
    properties = _sub(testsuite, "properties")
    _sub(properties, "property", {"name": "environment", "value": report.environment})
    if report.generated_at:
        _sub(properties, "property", {"name": "generatedAt", "value": report.generated_at})
    _sub(properties, "property", {"name": "summary", "value": report.summary_line})
    for key in sorted(cases):
        case = cases[key]
        testcase = _sub(testsuite, "testcase", {"classname": case.campaign_type, "name": key, "time": "0"})
        drifted = by_key.get(key)
        if drifted:
            lines = [line for section in drifted for line in [*section_lines(section), ""]]
            _sub(
                testcase,
                "failure",
                {"message": _message(drifted), "type": ",".join(s.kind for s in drifted)},
                "\n".join(lines).rstrip() + "\n",
            )
    out = [report.summary_line, ""]
    for listing in report.listings:
        out += [*listing_lines(listing), ""]
    if report.warnings:
        out += ["Warnings:", *(f"  - {w}" for w in report.warnings), ""]
    out += list(report.footer)
    _sub(testsuite, "system-out", text="\n".join(out).rstrip() + "\n")
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
