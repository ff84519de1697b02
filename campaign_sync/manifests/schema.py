"""The JSON Schema (draft 2020-12) of a manifest file, in input form, built from the field table.

Input form: it accepts every spelling ``validate`` accepts (``queue_name``, ``VOICE``,
``progressive``, ``weekly``, ``priority: 4`` or ``"4"``, ``"9:00am"``, ``"+1 (415) 555-0100"``)
and carries every rule ``validate`` checks that JSON Schema can express: patterns, ranges,
lengths, item counts, enums in any letter case, the fields each campaign type and mode requires
(``if``/``then`` on ``campaignType`` and the mode selector), unknown fields rejected. What it
cannot express is listed in the root ``description`` (:data:`INEXPRESSIBLE`).

Every row and group of every mode's table becomes a property of that mode's object schema;
``tests/test_schema_agreement.py`` holds the schema and ``validate`` together on a corpus.
"""

from __future__ import annotations

from typing import Any

from campaign_sync.core.campaign_types import REGISTRY
from campaign_sync.core.fields import CampaignType, Field, Group, Mode, Node, Path, Schema, ci_pattern

SCHEMA_ID = "https://campaign-sync.dev/schema/manifest.json"

#: What ``validate`` checks that JSON Schema cannot say; listed in the schema's description.
INEXPRESSIBLE = (
    "a calling-hours window starts before it ends",
    "calling-hours windows of one day do not overlap",
    "contact list names are unique ignoring case (the schema rejects exact repeats only)",
    "keys are unique across all manifests, and names unique per campaign type ignoring case",
    "whole numbers are written without a decimal point (JSON Schema takes 5.0 as the integer 5)",
    "*.yaml.j2 templates are checked once rendered; YAML duplicate keys, aliases and size limits are "
    "checked while parsing",
)


def _nullable(schema: Schema, nullable: bool) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]} if nullable else schema


def _leaf(row: Field, ctype: CampaignType, mode: Mode) -> Schema:
    if row.path == ctype.selector.path:
        schema: Schema = {"type": "string", "pattern": ci_pattern((mode.name,))}
    elif row.value.definition is not None:
        schema = {"$ref": f"#/$defs/{row.value.definition}"}
    else:
        schema = row.value.schema()
    if row.description:
        schema = {**schema, "description": row.description}
    return _nullable(schema, row.nullable)


def _object(nodes: list[Node], prefix: Path, ctype: CampaignType, mode: Mode) -> Schema:
    """The object schema of the mapping at ``prefix``: its direct fields and groups."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    constraints: list[Schema] = []
    for node in nodes:
        if len(node.path) != len(prefix) + 1 or node.path[: len(prefix)] != prefix:
            continue
        if isinstance(node, Group):
            inner = _object(nodes, node.path, ctype, mode)
            if node.description:
                inner["description"] = node.description
            properties[node.path[-1]] = _nullable(inner, node.nullable)
            names: tuple[str, ...] = (node.path[-1],)
        else:
            for name in node.names:
                properties[name] = _leaf(node, ctype, mode)
            names = node.names
        if len(names) > 1:
            # one spelling at most; exactly one when required
            constraints.append({"not": {"required": list(names[:2])}})
            if node.required:
                constraints.append({"anyOf": [{"required": [n]} for n in names]})
        elif node.required:
            required.append(names[0])
    out: Schema = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        out["required"] = required
    if constraints:
        out["allOf"] = constraints
    return out


def mode_schema(ctype: CampaignType, mode: Mode) -> Schema:
    """One mode's campaign object, complete (every property, unknown ones rejected)."""
    out = _object(list(mode.nodes), (), ctype, mode)
    out["title"] = f"{ctype.name} campaign, {ctype.selector.name} {mode.name}"
    return out


def _is(name: str, words: tuple[str, ...]) -> Schema:
    """``if`` clause: property ``name`` is a string spelling one of ``words``."""
    return {"required": [name], "properties": {name: {"type": "string", "pattern": ci_pattern(words)}}}


def _type_schema(ctype: CampaignType) -> Schema:
    selector = ctype.selector.name
    return {
        "required": [selector],
        "properties": {
            selector: {
                "type": "string",
                "pattern": ci_pattern(tuple(m.name for m in ctype.modes)),
                "description": f"{ctype.choices()} (any case)",
            }
        },
        "allOf": [
            {"if": _is(selector, (m.name,)), "then": {"$ref": f"#/$defs/{_def_name(ctype, m)}"}}
            for m in ctype.modes
        ],
    }


def _def_name(_ctype: CampaignType, mode: Mode) -> str:
    return mode.model.__name__


def manifest_schema() -> Schema:
    """JSON Schema (draft 2020-12) of a manifest file, for editors and the YAML language server."""
    names = REGISTRY.names()
    defs: dict[str, Any] = {}
    for ctype in REGISTRY:
        for mode in ctype.modes:
            defs[_def_name(ctype, mode)] = mode_schema(ctype, mode)
            for row in mode.fields:
                if row.value.definition is not None:
                    defs[row.value.definition] = row.value.schema()
    campaign: Schema = {
        "type": "object",
        "description": "One campaign; its fields depend on campaignType and its mode.",
        "required": ["campaignType"],
        "properties": {
            "campaignType": {
                "type": "string",
                "pattern": ci_pattern(names),
                "description": f"{' | '.join(names)} (any case)",
            }
        },
        "allOf": [{"if": _is("campaignType", (t.name,)), "then": _type_schema(t)} for t in REGISTRY],
    }
    defs["campaign"] = campaign
    rules = "; ".join(INEXPRESSIBLE)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "campaign-sync manifest",
        "description": (
            "A campaign-sync manifest: campaigns declared in Git. `campaign-sync validate` also checks "
            f"what this schema cannot express: {rules}."
        ),
        "type": ["object", "null"],
        "additionalProperties": False,
        "properties": {
            "campaigns": {
                "type": ["array", "null"],
                "description": "Campaigns declared in this file.",
                "items": {"$ref": "#/$defs/campaign"},
            }
        },
        "$defs": defs,
    }
