"""The manifest parse cache: the same campaigns from cached values as from parsing, and a miss for
anything that is not the same bytes read by the same parser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_sync.errors import ManifestError
from campaign_sync.manifests import parsecache, yamlfast
from campaign_sync.manifests.loader import DesiredState, load_desired
from campaign_sync.manifests.parsecache import ParseCache
from campaign_sync.manifests.yamlsafe import LineList
from tests.conftest import Repo
from tests.test_yaml_fast import manifests


class CountingParse:
    """``yamlfast.load``, counted."""

    def __init__(self) -> None:
        self.calls = 0
        self.real = yamlfast.load

    def __call__(self, text: str | bytes) -> Any:
        self.calls += 1
        return self.real(text)


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> CountingParse:
    counting = CountingParse()
    monkeypatch.setattr(yamlfast, "load", counting)
    return counting


def load(root: Path, cache: ParseCache, environ: dict[str, str] | None = None) -> DesiredState:
    return load_desired(root, ["manifests"], {"who": "ops"}, {}, environ or {}, "dev", cache=cache)


def strict(value: Any) -> Any:
    """A type-strict picture of a value (``True`` is not ``1``, a tuple is not a list)."""
    if isinstance(value, dict):
        return ("map", type(value).__name__, [(k, strict(v)) for k, v in value.items()])
    if isinstance(value, list):  # a LineList is a list: its lines are checked where they matter
        return ("seq", [strict(v) for v in value])
    if isinstance(value, tuple):
        return ("tuple", [strict(v) for v in value])
    return (type(value).__name__, value)


def picture(desired: DesiredState) -> Any:
    return [
        (key, str(item.location), strict(item.campaign.model_dump()), strict(dict(item.campaign)))
        for key, item in desired.campaigns.items()
    ] + [desired.digest, desired.files, desired.warnings]


def three_files(repo: Repo) -> None:
    for n in range(3):
        repo.write(
            f"manifests/m{n}.yaml", manifests(4).replace("bill-", f"bill-{n}-").replace("Reminder", f"R{n}")
        )


def test_a_second_load_reads_the_values_back_instead_of_parsing(
    repo: Repo, tmp_path: Path, parses: CountingParse
) -> None:
    three_files(repo)
    uncached = load(repo.root, ParseCache(None))
    assert parses.calls == 3
    cache = ParseCache(tmp_path / "cache")
    first = load(repo.root, cache)
    assert (parses.calls, cache.hits, cache.writes) == (6, 0, 3)
    again = ParseCache(tmp_path / "cache")
    second = load(repo.root, again)
    assert (parses.calls, again.hits, again.writes) == (6, 3, 0)
    assert picture(second) == picture(first) == picture(uncached)
    assert second.campaigns["bill-1-2"].location.line == 32


def test_changed_bytes_are_a_miss_and_the_new_values_win(
    repo: Repo, tmp_path: Path, parses: CountingParse
) -> None:
    three_files(repo)
    load(repo.root, ParseCache(tmp_path / "cache"))
    path = repo.root / "manifests" / "m1.yaml"
    path.write_text(path.read_text().replace("priority: 3", "priority: 4", 1))
    cache = ParseCache(tmp_path / "cache")
    desired = load(repo.root, cache)
    assert (cache.hits, cache.writes) == (2, 1)
    assert desired.campaigns["bill-1-0"].campaign.priority == "4"
    assert desired.campaigns["bill-1-1"].campaign.priority == "3"


def test_another_parser_is_a_miss(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    three_files(repo)
    load(repo.root, ParseCache(tmp_path / "cache"))
    monkeypatch.setattr(parsecache, "_fingerprint", lambda: b"another parser")
    cache = ParseCache(tmp_path / "cache")
    load(repo.root, cache)
    assert (cache.hits, cache.writes) == (0, 3)


def test_templates_and_files_with_problems_are_never_cached(
    repo: Repo, tmp_path: Path, parses: CountingParse
) -> None:
    repo.write("manifests/t.yaml.j2", manifests(1).replace("Monthly reminder", "by {{ who }}"))
    cache = ParseCache(tmp_path / "cache")
    assert load(repo.root, cache).campaigns["bill-0"].campaign.description == "by ops"
    assert (cache.hits, cache.writes) == (0, 0)
    repo.write(
        "manifests/bad.yaml", manifests(1).replace("bill-0", "bad").replace("priority: 3", "priority: 0")
    )
    for _ in range(2):
        with pytest.raises(ManifestError) as info:
            load(repo.root, cache)
        assert next(str(i) for i in info.value.issues).startswith("manifests/bad.yaml:8: ")
    assert (cache.hits, cache.writes) == (0, 0)
    assert not (tmp_path / "cache").exists()


def test_a_torn_or_foreign_entry_is_a_miss(repo: Repo, tmp_path: Path, parses: CountingParse) -> None:
    repo.write("manifests/a.yaml", manifests(2))
    load(repo.root, ParseCache(tmp_path / "cache"))
    (entry,) = (tmp_path / "cache").rglob("*.json")
    good = entry.read_bytes()
    for bad in (good[: len(good) // 2], b"[]", b'{"lines": [2], "document": {"campaigns": []}}', b"\xff"):
        entry.write_bytes(bad)
        cache = ParseCache(tmp_path / "cache")
        desired = load(repo.root, cache)
        assert cache.hits == 0
        assert sorted(desired.campaigns) == ["bill-0", "bill-1"]
        assert entry.read_bytes() == good  # rewritten from the parse


def test_a_cache_that_cannot_be_written_is_no_error(repo: Repo, tmp_path: Path) -> None:
    repo.write("manifests/a.yaml", manifests(2))
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    cache = ParseCache(blocker / "cache")
    assert sorted(load(repo.root, cache).campaigns) == ["bill-0", "bill-1"]
    assert cache.writes == 0


def test_values_json_cannot_carry_exactly_are_not_cached(tmp_path: Path) -> None:
    cache = ParseCache(tmp_path / "cache")
    items = LineList([{"x": float("nan")}])
    items.line, items.item_lines = 1, [2]
    cache.put(b"\0" * 32, {"campaigns": items})
    items[0] = {"x": 1.5, "y": [True, None, 7, "z"]}
    cache.put(b"\1" * 32, {"campaigns": items})
    assert cache.writes == 1
    assert cache.get(b"\0" * 32) is None
    back = cache.get(b"\1" * 32)
    assert back is not None
    assert strict(back) == strict({"campaigns": [{"x": 1.5, "y": [True, None, 7, "z"]}]})
    assert isinstance(back["campaigns"], LineList)
    assert back["campaigns"].item_lines == [2]


def test_where_the_cache_lives() -> None:
    assert parsecache.directory({"CAMPAIGN_SYNC_CACHE_DIR": "/c", "HOME": "/h"}) == Path("/c/manifests")
    assert parsecache.directory({"CAMPAIGN_SYNC_CACHE_DIR": "", "HOME": "/h"}) is None
    assert parsecache.directory({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/campaign-sync/manifests")
    assert parsecache.directory({"HOME": "/h"}) == Path("/h/.cache/campaign-sync/manifests")
    assert parsecache.directory({}) is None
    # the XDG spec: a relative XDG_CACHE_HOME is invalid and ignored (else the cache would move with the cwd)
    relative = {"XDG_CACHE_HOME": "cache", "HOME": "/h"}
    assert parsecache.directory(relative) == Path("/h/.cache/campaign-sync/manifests")
    assert parsecache.directory({"XDG_CACHE_HOME": "./x"}) is None


def test_the_default_cache_follows_the_environment_given(
    repo: Repo, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tmp_path = tmp_path_factory.mktemp("elsewhere")
    repo.write("manifests/a.yaml", manifests(1))
    load_desired(repo.root, ["manifests"], {}, {}, {"CAMPAIGN_SYNC_CACHE_DIR": str(tmp_path / "c")}, "dev")
    assert len(list((tmp_path / "c" / "manifests").rglob("*.json"))) == 1
    load_desired(repo.root, ["manifests"], {}, {}, {"HOME": str(tmp_path / "home")}, "dev")
    assert len(list((tmp_path / "home" / ".cache" / "campaign-sync").rglob("*.json"))) == 1
    assert not any(name.endswith(".json") for _, _, files in os.walk(repo.root) for name in files)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    description=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40),
    extra=st.dictionaries(
        st.text(min_size=1, max_size=8), st.recursive(SCALARS, lambda c: st.lists(c, max_size=3)), max_size=3
    ),
)
def test_what_a_clean_parse_gives_comes_back_exactly(
    tmp_path: Path, description: str, extra: dict[str, Any]
) -> None:
    """Any document the fast path builds (here: a campaign list beside arbitrary values) round-trips."""
    items = LineList([{"key": "a", "description": description, "extra": extra}])
    items.line, items.item_lines = 3, [4]
    document = {"campaigns": items}
    cache = ParseCache(tmp_path / "prop")
    digest = os.urandom(32)
    cache.put(digest, document)
    assert cache.writes == 1
    back = cache.get(digest)
    assert back is not None
    assert strict(back) == strict(document)
    assert (back["campaigns"].line, back["campaigns"].item_lines) == (3, [4])


def test_every_campaign_type_and_mode_comes_back_the_same(repo: Repo, tmp_path: Path) -> None:
    """The benchmark's mix (simple and advanced SMS, Progressive and Agentless voice), with spellings
    the models canonicalise (lower-case days and frequency, a numeric priority), cached and not."""
    import yaml

    campaigns = []
    for index, kind in enumerate(["simple", "advanced", "Progressive", "Agentless"] * 3):
        sms = kind in ("simple", "advanced")
        item: dict[str, Any] = {
            "key": f"c-{index}",
            "campaignType": "sms" if sms else "voice",
            "name": f"Campaign {index}",
            "description": f"number {index}",
            "contactLists": ["CL Only 2020 Dec 4", "Other list"][: 1 + index % 2],
            "priority": 1 + index % 5,
            "dialingStrategy": {
                "callerId": {"phoneNumber": "+14155550100"},
                "callingHours": {
                    "frequency": "weekly",
                    "timezone": "Asia/Kolkata",
                    "days": [{"day": "mo", "start": "9:00 AM", "end": "5:00 PM"}],
                },
            },
        }
        if sms:
            item["format"] = kind
            if kind == "simple":
                item["message"] = {"message": f"Hello {index}"}
            else:
                item |= {"experienceFlowName": "SMS Flow", "schedule": {"isSchedulingEnabled": False}}
        else:
            item["dialingMode"] = kind
            item["dncLists"] = {"name": "DNC CL Dec 4"}
            item["dialingStrategy"] |= {
                "dialingOrder": "FIFO",
                "maxAttemptsPerRecord": 2,
                "defaultRetryPeriod": 10,
                "maxRingTime": 30,
            }
            item |= {"queueName": "Sales"} if kind == "Progressive" else {"experienceFlowName": "Voice Flow"}
        campaigns.append(item)
    for start in (0, 6):
        chunk = {"campaigns": campaigns[start : start + 6]}
        repo.write(f"manifests/f{start}.yaml", yaml.safe_dump(chunk, sort_keys=False))
    uncached = load(repo.root, ParseCache(None))
    load(repo.root, ParseCache(tmp_path / "cache"))
    cache = ParseCache(tmp_path / "cache")
    assert picture(load(repo.root, cache)) == picture(uncached)
    assert cache.hits == 2
    assert {type(c.campaign).__name__ for c in uncached.campaigns.values()} == {
        "SmsSimple",
        "SmsAdvanced",
        "VoiceProgressive",
        "VoiceAgentless",
    }


def _entries(root: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in root.rglob("*.json")}


def test_a_hit_marks_its_entry_recently_used(repo: Repo, tmp_path: Path) -> None:
    three_files(repo)
    load(repo.root, ParseCache(tmp_path / "cache"))
    for entry in (tmp_path / "cache").rglob("*.json"):
        os.utime(entry, (1_000_000, 1_000_000))
    cache = ParseCache(tmp_path / "cache")
    load(repo.root, cache)
    assert cache.hits == 3
    assert all(mtime > 1_000_000 for mtime in _entries(tmp_path / "cache").values())


def test_a_run_that_writes_prunes_the_least_recently_used_past_the_bound(repo: Repo, tmp_path: Path) -> None:
    root = tmp_path / "cache"
    three_files(repo)
    load(repo.root, ParseCache(root))
    stale = root / "ab" / ".killed.tmp"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("{")
    os.utime(stale, (1_000_000, 1_000_000))
    fresh = root / "ab" / ".writing.tmp"
    fresh.write_text("{")

    reading = ParseCache(root)
    load(repo.root, reading)  # all hits, nothing written: nothing is even looked at
    assert (reading.hits, reading.writes) == (3, 0)
    assert reading.prune(max_bytes=1) == 0
    assert stale.exists()
    assert len(_entries(root)) == 3

    ages = {}
    for age, entry in enumerate(sorted(root.rglob("*.json"))):
        os.utime(entry, (2_000_000 + age, 2_000_000 + age))  # the first is the least recently used
        ages[entry.name] = age
    sizes = {p.name: p.stat().st_size for p in root.rglob("*.json")}

    writing = ParseCache(root)
    writing.writes = 1
    everything = sum(sizes.values())
    assert writing.prune(max_bytes=everything) == 1  # within the bound: only the killed run's file
    assert not stale.exists()
    assert fresh.exists()
    assert set(_entries(root)) == set(sizes)

    bound = everything - 1
    assert writing.prune(max_bytes=bound) >= 1
    left = _entries(root)
    by_age = sorted(ages, key=ages.__getitem__)
    gone = [name for name in by_age if name not in left]
    assert gone == by_age[: len(gone)]  # the least recently used, in that order
    assert left  # the most recently used stays
    assert sum(sizes[name] for name in left) <= bound * 3 // 4  # down to three quarters of the bound
    assert sum(sizes[name] for name in left) + sizes[gone[-1]] > bound * 3 // 4  # and no further


def test_loading_prunes_after_writing(repo: Repo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "cache"
    three_files(repo)
    load(repo.root, ParseCache(root))
    for entry in root.rglob("*.json"):
        os.utime(entry, (1_000_000, 1_000_000))
    before = set(_entries(root))
    monkeypatch.setattr(parsecache, "MAX_BYTES", 1)  # the default bound, read when the loader prunes
    repo.write("manifests/m3.yaml", manifests(2).replace("bill-", "bill-3-"))
    cache = ParseCache(root)
    load(repo.root, cache)
    assert (cache.hits, cache.writes) == (3, 1)
    assert len(_entries(root)) <= 1
    assert not before & set(_entries(root))  # the old entries went first
