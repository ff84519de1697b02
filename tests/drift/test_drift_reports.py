"""Drift reports from one view model: escaping per format, JUnit mapping, size cap, determinism."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from campaign_sync.core.drift import Drift, DriftEntry, DriftField, Facet, Kind, Managed, Unmanaged
from campaign_sync.report import DRIFT_FORMATS, drift_report, html, junit, markdown, render_drift, text

HOSTILE_NAMES = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}")
NOW = "2030-01-02T03:04:05Z"


def sample(name: str = HOSTILE_NAMES[0], value: str = "x", unmanaged: tuple[Unmanaged, ...] = ()) -> Drift:
    changed = Facet(
        Kind.CHANGED,
        (DriftField("description", "Due", value), DriftField("priority", "3", "4")),
        note="changed outside campaign-sync",
        updated_at="2030-01-01T00:00:00.000Z",
    )
    pending = Facet(
        Kind.PENDING,
        (DriftField("name", "Bill", "Bill", manifest=name),),
        note="manifest changes not applied yet",
        action="update",
    )
    entries = (
        DriftEntry("bill", "sms", name, "cd-1", (pending, changed)),
        DriftEntry.of("gone", Kind.MISSING, "voice", "Gone", "cd-2", note="deleted outside campaign-sync"),
    )
    managed = (
        Managed("bill", "sms", name, "cd-1"),
        Managed("gone", "voice", "Gone", "cd-2"),
        Managed("fine", "voice", "Fine", "cd-3"),
    )
    return Drift("prod", entries, managed, unmanaged, generated_at=NOW)


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if not self._in_style:
            self.text.append(data)


def parse_html(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_html_escapes_every_user_string(name: str) -> None:
    drift = sample(name, value=name, unmanaged=(Unmanaged("cd-9", "sms", name),))
    page = render_drift(drift, "html")
    parsed = parse_html(page)
    assert "script" not in parsed.tags
    assert "img" not in parsed.tags
    assert not [a for a, _ in parsed.attrs if a.startswith("on")]
    text_content = "".join(parsed.text)
    assert text_content.count(name) >= 4  # header, field value, pending value, unmanaged row: shown as text
    assert "49" not in text_content  # user text is data, never template code


def test_html_is_self_contained_and_phone_friendly() -> None:
    page = render_drift(sample(unmanaged=(Unmanaged("cd-9", "sms", "Stray"),)), "html")
    parsed = parse_html(page)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert "Content-Security-Policy" in page
    assert not [v for a, v in parsed.attrs if a in {"src", "href"}]  # no external assets, no links
    assert {"script", "link", "iframe", "img"}.isdisjoint(parsed.tags)
    assert page.count('<div class="scroll">') == 3  # two field tables and the unmanaged listing scroll
    assert "overflow-x: auto" in page
    text_content = "".join(parsed.text)
    assert "Drift: 1 changed, 1 missing, 0 pending, 1 unmanaged; 1 of them also pending." in text_content
    assert NOW in text_content
    assert "prod" in text_content
    assert "Stray" in text_content


def test_markdown_escapes_user_text_in_tables_and_listings() -> None:
    nasty = "Promo @here <script>x</script> | `rm -rf` https://evil.example"
    out = render_drift(sample(nasty, value=nasty, unmanaged=(Unmanaged("cd-9", "sms", nasty),)), "markdown")
    assert out.startswith(
        "### Drift since the last apply · `prod`\n\n**Drift: 1 changed, 1 missing, 0 pending, 1 unmanaged; "
        "1 of them also pending.**"
    )
    assert "@here" not in out
    assert "<script>" not in out
    assert "https://" not in out
    assert "`rm" not in out.replace("\\`rm", "")
    for line in out.splitlines():
        if line.startswith("| "):
            # Every table row keeps its columns: unescaped pipes are only the cell borders.
            assert len(re.findall(r"(?<!\\)\|", line)) == line.count("|") - line.count("\\|")
            cells = re.split(r"(?<!\\)\|", line)[1:-1]
            assert len(cells) == 3, line
    assert "| field | applied | live |" in out
    assert "| field | applied | manifest |" in out


def test_markdown_stays_under_the_comment_limit_with_a_note() -> None:
    entries = tuple(
        DriftEntry.of(
            f"k{i:04d}",
            Kind.CHANGED,
            "sms",
            f"Campaign {i}",
            f"cd-{i}",
            (DriftField("description", "a" * 80, "b" * 80),),
        )
        for i in range(1500)
    )
    unmanaged = tuple(Unmanaged(f"cd-u{i}", "sms", f"Stray {i}") for i in range(3000))
    drift = Drift(
        "prod", entries, tuple(Managed(e.key, "sms", e.name, e.campaign_id) for e in entries), unmanaged
    )
    out = render_drift(drift, "markdown")
    assert markdown.utf16_len(out) < markdown.COMMENT_LIMIT - markdown.WRAPPER_RESERVE
    assert "more campaigns not shown" in out
    assert "The full drift reports are in the `campaign-sync-drift-prod` artifact" in out
    assert out.index("**Drift: 1500 changed") < out.index("<details>")


def test_junit_maps_one_testcase_per_managed_campaign() -> None:
    out = render_drift(sample(unmanaged=(Unmanaged("cd-9", "sms", "Stray <b>"),)), "junit")
    root = ET.fromstring(out.encode())  # noqa: S314 - our own output
    assert root.tag == "testsuites"
    (suite,) = root
    assert suite.get("name") == "campaign-sync drift (prod)"
    assert (suite.get("tests"), suite.get("failures"), suite.get("timestamp")) == (
        "3",
        "2",
        "2030-01-02T03:04:05",
    )
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert sorted(cases) == ["bill", "fine", "gone"]
    assert {n: c.get("classname") for n, c in cases.items()} == {
        "bill": "sms",
        "fine": "voice",
        "gone": "voice",
    }
    bill = cases["bill"].find("failure")
    assert bill is not None
    assert bill.get("type") == "changed,pending"
    assert "description" in (bill.text or "")
    assert '"Due" -> "x"' in (bill.text or "")
    gone = cases["gone"].find("failure")
    assert gone is not None
    assert gone.get("type") == "missing"
    assert list(cases["fine"]) == []  # in sync: passes
    out_text = suite.findtext("system-out") or ""
    assert "Stray <b>" in out_text  # unmanaged are listed, not tests
    assert not [c for c in cases.values() if c.find("skipped") is not None]
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["environment"] == "prod"
    assert props["generatedAt"] == NOW


def test_junit_shows_characters_xml_cannot_hold_escaped() -> None:
    entry = DriftEntry.of("k", Kind.MISSING, "sms", "N", "cd-1", location="manifests/bad\x00\x1b.yaml:2")
    out = render_drift(Drift("prod", (entry,), (Managed("k", "sms", "N", "cd-1"),), ()), "junit")
    root = ET.fromstring(out.encode())  # noqa: S314 - would raise on a raw control character
    assert "manifests/bad\\u0000\\u001b.yaml:2" in (root.findtext("testsuite/testcase/failure") or "")


def test_text_names_the_kind_and_the_columns() -> None:
    out = render_drift(sample("Bill"), "text")
    assert '  ~ changed sms bill: "Bill" (cd-1)' in out
    assert "  > pending update sms bill:" in out
    assert "  ! missing voice gone:" in out
    assert '      # applied -> live\n      description: "Due" -> "x"' in out
    assert '      # applied -> manifest\n      name: "Bill" -> "Bill"' in out
    assert out.rstrip().splitlines()[-2] == (
        "Drift: 1 changed, 1 missing, 0 pending, 0 unmanaged; 1 of them also pending."
    )
    assert out.rstrip().endswith("1 managed campaign in sync.")


def test_no_drift_text_lists_unmanaged_and_the_summary() -> None:
    drift = Drift("prod", (), (Managed("a", "sms", "A", "cd-1"),), (Unmanaged("cd-9", "voice", "Stray"),))
    out = render_drift(drift, "text")
    assert out.startswith("No drift.")
    assert 'voice  "Stray"  cd-9' in out
    assert "Drift: 0 changed, 0 missing, 0 pending, 1 unmanaged." in out


def test_every_human_format_renders_the_one_view_model() -> None:
    drift = sample()
    report = drift_report(drift)
    assert render_drift(drift, "text") == text.render(report)
    assert render_drift(drift, "markdown") == markdown.render(report)
    assert render_drift(drift, "html") == html.render(report)
    assert render_drift(drift, "junit") == junit.render(report, suite="campaign-sync drift (prod)")
    assert [s.key for s in report.sections] == ["bill", "bill", "gone"]
    assert [s.key for s in report.in_sync] == ["fine"]


@pytest.mark.parametrize("fmt", DRIFT_FORMATS)
def test_identical_input_gives_identical_output(fmt: str) -> None:
    assert render_drift(sample(), fmt) == render_drift(sample(), fmt)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown drift report format"):
        render_drift(sample(), "pdf")


def test_a_pending_row_says_what_live_has_when_it_differs_from_applied() -> None:
    pending = Facet(
        Kind.PENDING,
        (
            DriftField("description", "Due", "Edited", manifest="Pay by Friday"),
            DriftField("name", "Bill", "Bill 2", manifest="Bill 2"),
            DriftField("priority", "3", "3", manifest="2"),
            DriftField("schedule", None, manifest={"isSchedulingEnabled": False}, live_known=False),
        ),
        note="manifest changes not applied yet",
        action="update",
    )
    changed = Facet(
        Kind.CHANGED, (DriftField("description", "Due", "Edited"), DriftField("name", "Bill", "Bill 2"))
    )
    entry = DriftEntry("bill", "sms", "Bill", "cd-1", (changed, pending))
    out = render_drift(Drift("prod", (entry,), (Managed("bill", "sms", "Bill", "cd-1"),), ()), "text")
    assert '      description: "Due" -> "Pay by Friday"  (live now "Edited")' in out
    assert '      name: "Bill" -> "Bill 2"  (live already has this)' in out
    assert '      priority: "3" -> "2"\n' in out
    assert "      schedule: (none) -> " in out
    assert "Drift: 1 changed, 0 missing, 0 pending, 0 unmanaged; 1 of them also pending." in out
    data = entry.to_json()
    assert [f["kinds"] for f in data["fields"]] == [
        ["changed", "pending"],
        ["changed", "pending"],
        ["pending"],
        ["pending"],
    ]


def test_an_entry_has_one_facet_per_kind() -> None:
    with pytest.raises(ValueError, match="one facet of each kind"):
        DriftEntry("k", "sms", "N", "cd-1", (Facet(Kind.CHANGED), Facet(Kind.CHANGED)))
    with pytest.raises(ValueError, match="at least one"):
        DriftEntry("k", "sms", "N", "cd-1", ())
