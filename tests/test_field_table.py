"""The field table and the models hold each other: every model field has a row, every row a field.

Per campaign type and mode, the leaves of the model (nested models are groups; a list of models,
like calling-hour days, is one leaf) are exactly the table's fields, its nested models exactly
the table's groups, with the same requiredness, ``null`` handling, accepted spellings and enums.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

import pytest
from pydantic import AliasChoices, BaseModel
from pydantic.fields import FieldInfo

from campaign_sync.core.campaign_types import REGISTRY, Registry
from campaign_sync.core.fields import Choice, Field, Mode, Role
from campaign_sync.errors import CampaignTypeError

MODES = [(t.name, m) for t in REGISTRY for m in t.modes]
IDS = [f"{t}-{m.name}" for t, m in MODES]


def _strip(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _options(annotation: Any) -> tuple[Any, ...]:
    annotation = _strip(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(_strip(a) for a in typing.get_args(annotation))
    return (annotation,)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    for option in _options(annotation):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return option
    return None


def model_nodes(
    model: type[BaseModel], prefix: tuple[str, ...] = ()
) -> tuple[dict[tuple[str, ...], FieldInfo], dict[tuple[str, ...], FieldInfo]]:
    leaves: dict[tuple[str, ...], FieldInfo] = {}
    groups: dict[tuple[str, ...], FieldInfo] = {}
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        sub = _submodel(info.annotation)
        if sub is None:
            leaves[path] = info
        else:
            groups[path] = info
            inner_leaves, inner_groups = model_nodes(sub, path)
            leaves.update(inner_leaves)
            groups.update(inner_groups)
    return leaves, groups


def _nullable(info: FieldInfo) -> bool:
    return type(None) in _options(info.annotation)


@pytest.mark.parametrize(("type_name", "mode"), MODES, ids=IDS)
def test_every_model_field_has_a_row_and_every_row_a_model_field(type_name: str, mode: Mode) -> None:
    leaves, groups = model_nodes(mode.model)
    assert sorted(leaves) == sorted(f.path for f in mode.fields)
    assert sorted(groups) == sorted(g.path for g in mode.groups)
    assert len({f.path for f in mode.fields}) == len(mode.fields), "a row is listed twice"


@pytest.mark.parametrize(("type_name", "mode"), MODES, ids=IDS)
def test_rows_and_model_fields_agree_on_required_null_and_spellings(type_name: str, mode: Mode) -> None:
    leaves, groups = model_nodes(mode.model)
    for node in (*mode.fields, *mode.groups):
        info = (leaves if isinstance(node, Field) else groups)[node.path]
        assert info.is_required() == node.required, node.path
        assert _nullable(info) == node.nullable, node.path
    for row in mode.fields:
        alias = leaves[row.path].validation_alias
        if row.spellings:
            assert isinstance(alias, AliasChoices), row.path
            assert tuple(alias.choices) == row.names, row.path
        else:
            assert alias is None, row.path


@pytest.mark.parametrize(("type_name", "mode"), MODES, ids=IDS)
def test_enums_of_the_models_are_the_rows_choices(type_name: str, mode: Mode) -> None:
    leaves, _groups = model_nodes(mode.model)
    ctype = REGISTRY.get(type_name)
    for row in mode.fields:
        if not isinstance(row.value, Choice):
            continue
        literal = [o for o in _options(leaves[row.path].annotation) if typing.get_origin(o) is typing.Literal]
        assert literal, f"{row.path} is a choice in the table but not a Literal in the model"
        values = typing.get_args(literal[0])
        if row.role is Role.SELECTOR:
            assert row is ctype.selector
            assert values == (mode.name,)
        elif row.role is Role.TYPE:
            assert values == (type_name,)
        else:
            assert values == row.value.choices, row.path


def test_each_mode_is_reachable_through_its_selector_in_any_case() -> None:
    for ctype in REGISTRY:
        for mode in ctype.modes:
            assert ctype.mode(mode.name.upper()) is mode
            assert ctype.mode(f"  {mode.name.lower()} ") is mode
        assert ctype.mode("no-such-mode") is None


def test_the_registry_is_built_once_and_cannot_change() -> None:
    assert isinstance(REGISTRY.types, tuple)
    with pytest.raises(dataclasses.FrozenInstanceError):
        REGISTRY.types = ()  # type: ignore[misc]
    assert REGISTRY.names() == tuple(t.name for t in REGISTRY)
    assert len(set(REGISTRY.names())) == len(REGISTRY.names())


def test_an_unknown_type_is_an_error_never_a_fallback() -> None:
    with pytest.raises(CampaignTypeError, match="unknown campaign type 'whatsapp'"):
        REGISTRY.get("whatsapp")
    with pytest.raises(CampaignTypeError, match="cannot tell the campaign type"):
        REGISTRY.of_document({"name": "no selector"})
    with pytest.raises(CampaignTypeError, match="cannot tell the campaign type"):
        REGISTRY.of_document({"format": "simple", "dialingMode": "Agentless"})
    assert REGISTRY.of_document({"format": "simple"}).name == "sms"
    assert REGISTRY.of_document({"dialingMode": "Preview"}).name == "voice"


def test_a_new_type_is_one_module_and_one_entry() -> None:
    # What adding a type takes: a CampaignType (its module's rows, model, selector, list type) and
    # one entry in a Registry. Everything that walks the document then knows it.
    from campaign_sync.manifests.models.sms import SMS

    chat = dataclasses.replace(SMS, name="whatsapp", list_type="whatsapp")
    registry = Registry((*REGISTRY.types, chat))
    assert registry.get("whatsapp").list_type == "whatsapp"
    assert registry.names()[-1] == "whatsapp"
