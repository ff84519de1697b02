"""Markdown for pull-request comments, rendered as GitHub renders it (cmark-gfm).

Hostile user text stays text after GitHub's own steps: the Markdown is rendered with the GFM
extensions, entities are decoded (as the DOM does), and no link, mention or URL scheme is left
for GitHub's mention and autolink filters. Long plans stay under GitHub's limit in UTF-16 code
units and say which artifact holds the full plan.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import cmarkgfm
import yaml
from cmarkgfm.cmark import Options

from campaign_sync.core.changes import Policy
from campaign_sync.core.diff import FieldChange
from campaign_sync.core.plan import Action, Change, Plan, Summary
from campaign_sync.core.refusals import decide
from campaign_sync.report import markdown, render_plan
from campaign_sync.report.markdown import COMMENT_LIMIT, escape, utf16_len

HOSTILE = "Promo @here <script>alert(1)</script> | `rm -rf` [x](https://evil.example) www.evil.example *bold* ~~gone~~"
NAMES = [
    "@team ping",
    "see https://evil.example/path and http://x.y",
    "www.x.com",
    "a | b | c",
    "`code` and ``more``",
    "</details><details><summary>fake",
    "party \U0001f389\U0001f680 time",
    "rtl \u202eevil\u202c",
    "mail bob@example.com",
    "<a href='https://x'>link</a>",
    "zero\u200dwidth",
    "#123 and @org/team",
]
WORKFLOWS = Path(__file__).resolve().parent.parent / "campaign_sync" / "scaffold" / "github" / "workflows"


def plan_with(names: list[str], description: str = HOSTILE, **extra: object) -> Plan:
    changes = tuple(
        Change(
            key=f"k{i:04d}",
            action=Action.UPDATE,
            campaign_type="sms",
            name=name,
            campaign_id=f"cd-{i}",
            fields=(FieldChange("description", "old | value", description),),
            **extra,  # type: ignore[arg-type]
        )
        for i, name in enumerate(names)
    )
    refusals = decide(changes, managed=len(changes), matched=len(changes), policy=Policy())
    return Plan("prod", changes, Summary(update=len(changes)), managed=len(changes), refusals=refusals)


def github_html(text: str) -> str:
    """The HTML GitHub's cmark-gfm makes of a comment (table, autolink, strikethrough, tagfilter)."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=Options.CMARK_OPT_UNSAFE)


class _Dom(HTMLParser):
    """What the browser's DOM holds: elements, and text with entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.code = 0
        self.text_outside_code: list[str] = []
        self.opened: dict[str, int] = {}
        self.closed: dict[str, int] = {}
        self.rows: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.opened[tag] = self.opened.get(tag, 0) + 1
        if tag == "code":
            self.code += 1
        elif tag == "tr":
            self.rows.append(0)
        elif tag in ("td", "th"):
            self.rows[-1] += 1

    def handle_endtag(self, tag: str) -> None:
        self.closed[tag] = self.closed.get(tag, 0) + 1
        if tag == "code":
            self.code -= 1

    def handle_data(self, data: str) -> None:
        if not self.code:
            self.text_outside_code.append(data)


def dom_of(text: str) -> _Dom:
    dom = _Dom()
    dom.feed(github_html(text))
    dom.close()
    return dom


def test_a_thousand_hostile_updates_survive_github_rendering_under_the_limit() -> None:
    names = [NAMES[i % len(NAMES)] + f" {i}" for i in range(1000)]
    plan = plan_with(names, description=HOSTILE + " \U0001f600" * 40)
    text = render_plan(plan, "markdown")

    assert utf16_len(text) <= COMMENT_LIMIT - markdown.WRAPPER_RESERVE - 2 * len("prod")
    assert utf16_len(text) > len(text), "emoji count twice, as GitHub counts them"
    dom = dom_of(text)
    assert dom.opened.get("details", 0) == dom.closed.get("details", 0) > 0
    assert dom.opened.get("summary", 0) == dom.closed.get("summary", 0) == dom.opened["details"]
    assert dom.rows
    assert set(dom.rows) == {3}, "every table row has its three cells"
    assert dom.opened.get("table", 0) == dom.opened["details"]
    assert "a" not in dom.tags, "no link element"
    assert "script" not in dom.tags
    visible = "".join(dom.text_outside_code)
    assert not re.search(r"(^|[^\w])@[A-Za-z0-9]", visible), "no mention for GitHub's MentionFilter"
    assert "://" not in visible, "no URL scheme for GitHub's autolinker"
    assert "www." not in visible
    assert not re.search(r"#\d", visible), "no issue reference for GitHub's IssueReferenceFilter"
    assert "\u202e" not in text, "an RTL override never reaches the comment raw"
    assert "\\u202e" in text
    assert "zero\\u200dwidth" in text, "a joiner in user text stays escaped"
    assert "@\u200dteam" in text, "the renderer's own joiner is the real character"


def test_hostile_user_text_is_escaped() -> None:
    text = render_plan(plan_with([HOSTILE]), "markdown")
    assert "<script>" not in text
    assert "@here" not in text
    assert "@\u200dhere" in text
    assert "&lt;script&gt;" in text
    assert "https://evil" not in text
    assert "https:\u200d//evil" in text
    assert "www.evil" not in text
    assert "www\u200d.evil" in text
    issue = render_plan(plan_with(["fixes #123, GH #7"]), "markdown")
    assert "#\u200d123" in issue
    assert "#\u200d7" in issue
    assert not re.search(r"#\d", issue)
    assert "[x](" not in text
    assert "\\`rm -rf\\`" in text
    assert "&#64;" not in text, "entities are decoded before GitHub's filters"
    assert "&#47;" not in text


def test_pipes_never_break_the_table() -> None:
    text = render_plan(plan_with(["Name | with | pipes"]), "markdown")
    rows = [line for line in text.splitlines() if line.startswith("| description")]
    assert rows
    for row in rows:
        unescaped = re.sub(r"\\\|", "", row)
        assert unescaped.count("|") == 4  # exactly three cells


def test_summary_line_comes_first() -> None:
    lines = [line for line in render_plan(plan_with(["A"]), "markdown").splitlines() if line.strip()]
    assert lines[1] == "**Plan: 0 to create, 1 to update, 0 to delete, 0 unchanged, 0 unmanaged.**"


def test_long_plans_are_cut_with_a_note_naming_the_artifact_the_workflows_upload() -> None:
    plan = plan_with([f"Campaign {i}" for i in range(2000)], description="x" * 200)
    text = render_plan(plan, "markdown")
    assert utf16_len(text) < COMMENT_LIMIT - markdown.WRAPPER_RESERVE
    match = re.search(
        r"_(\d+) more campaigns not shown: .* in the `([^`]+)` artifact of this workflow run", text
    )
    assert match is not None
    shown = text.count("<details>")
    assert shown + int(match.group(1)) == 2000
    assert match.group(2) == "campaign-sync-plan-prod"
    assert "Apply will refuse" in text, "the safety refusal is stated before the campaigns"
    assert text.index("Apply will refuse") < text.index("<details>")


def uploaded_artifacts(workflow: str) -> set[str]:
    data = yaml.safe_load((WORKFLOWS / workflow).read_text())
    return {
        str(step["with"]["name"])
        for job in data["jobs"].values()
        for step in job.get("steps", [])
        if str(step.get("uses", "")).startswith("actions/upload-artifact@")
    }


def test_the_artifact_the_note_names_is_the_one_each_workflow_uploads() -> None:
    env = "${{ matrix.environment }}"
    assert markdown.artifact_name("plan", env) in uploaded_artifacts("campaign-sync-plan.yml")
    assert markdown.artifact_name("plan", env) in uploaded_artifacts("campaign-sync-apply.yml")
    assert markdown.artifact_name("drift", env) in uploaded_artifacts("campaign-sync-drift.yml")


def test_no_workflow_cuts_the_text() -> None:
    cutting = re.compile(
        r"\.slice\(|\.substring\(|\b(plan|report|body|text)\[[^\]]*:|head -c|cut -c|truncate"
    )
    for path in sorted(WORKFLOWS.glob("*.yml")):
        found = [line.strip() for line in path.read_text().splitlines() if cutting.search(line)]
        assert found == [], f"{path.name} cuts text: {found}"


def test_a_wrapper_within_the_reserve_keeps_the_comment_under_githubs_limit() -> None:
    """The plan workflow's marker and footer, at their longest (a 140-character repository)."""
    env = "production-eu-west"
    plan = plan_with([f"Campaign {i} \U0001f389" for i in range(3000)], description="y" * 150)
    plan = Plan(env, plan.changes, plan.summary, managed=plan.managed, refusals=plan.refusals)
    text = render_plan(plan, "markdown").rstrip("\n")
    run = f"https://github.com/{'o' * 39}/{'r' * 100}/actions/runs/{'9' * 12}"
    body = (
        f"<!-- campaign-sync-plan:{env} -->\n{text}\n\n<sub>campaign-sync plan of `{env}` for {'f' * 7} · "
        f"digest `{plan.digest}` · [run]({run})</sub>\n"
    )
    source = (WORKFLOWS / "campaign-sync-plan.yml").read_text()
    assert 'marker = f"<!-- campaign-sync-plan:{env} -->"' in source
    assert 'body = (f"{marker}\\n{plan}\\n\\n<sub>campaign-sync plan of `{env}` for {head} · "' in source
    assert utf16_len(body) <= COMMENT_LIMIT


def test_escape_keeps_plain_text_readable() -> None:
    assert escape("Bill Reminder (May 2026) - 50% off.") == "Bill Reminder (May 2026) - 50% off."
    assert escape("line one\nline two") == "line one line two"


def test_a_targeting_notice_is_a_warning_of_the_comment_and_keeps_it_under_the_limit() -> None:
    notice = "Targeting is in effect: only 1 of 4 campaigns was considered; see `campaign-sync plan`"
    small = github_html(render_plan(plan_with(["A"]), "markdown", notice=notice))
    assert "<strong>Warnings</strong>" in small
    assert "<li>Targeting is in effect: only 1 of 4 campaigns was considered" in small
    assert "Targeting" not in render_plan(plan_with(["A"]), "markdown")
    plain = render_plan(plan_with(["A"]), "text")
    assert render_plan(plan_with(["A"]), "text", notice=notice) == f"{plain}\n{notice}\n"  # the last line
    assert notice not in render_plan(plan_with(["A"]), "json", notice=notice)
    names = [NAMES[i % len(NAMES)] + f" {i}" for i in range(1000)]
    long = render_plan(plan_with(names, description=HOSTILE), "markdown", notice=notice)
    assert utf16_len(long) <= COMMENT_LIMIT - markdown.WRAPPER_RESERVE - 2 * len("prod")
    assert "Targeting is in effect" in long  # kept when sections are left out
