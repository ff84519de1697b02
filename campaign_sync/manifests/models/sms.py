"""The SMS campaign type: its rows of the field table, its models per format, its descriptor.

format simple (a plain or template message) and advanced (an experience flow). Registered in
``core/campaign_types.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import campaign_sync.core.fields as table
from campaign_sync.core.fields import CampaignType, Choice, Field, Group, Message, Mode, ReadBack, Role, Text
from campaign_sync.core.values import lower
from campaign_sync.manifests.models.common import (
    CampaignBase,
    Lower,
    SmsDialingStrategy,
    Strict,
    sized,
    spelled,
)

FORMAT = Field(
    ("format",),
    Choice(("simple", "advanced"), lower),
    role=Role.SELECTOR,
    description="simple (a message) | advanced (an experience flow); any case.",
)
MESSAGE = Group(("message",))
MESSAGE_TEXT = Field(
    ("message", "message"),
    Message(),
    description="Plain text; sent base64-encoded, compared decoded.",
)
TEMPLATE = Field(
    ("message", "templateName"),
    Text(1),
    spellings=("template_name",),
    write=("message", "template_name"),
    read=(("message", "template_name"), ("message", "templateName")),
    required=False,
    nullable=True,
    description="Name of a pre-approved SMS template; the message must match its body.",
)
FLOW = Field(
    ("experienceFlowName",),
    Text(1),
    read_back=ReadBack.PAIRED,
    id_path=("experienceFlow",),
    description="Name of a published start flow; the API shows it back as a cf- id.",
)

_HEAD = table.head("sms", table.DNC_OPTIONAL)
_STRATEGY = (table.STRATEGY, table.CALLER, table.PHONE, *table.calling_hours())
SIMPLE_NODES = (*_HEAD, FORMAT, MESSAGE, TEMPLATE, MESSAGE_TEXT, *_STRATEGY, table.SCHEDULE, table.SCHEDULING)
ADVANCED_NODES = (*_HEAD, FORMAT, FLOW, *_STRATEGY, table.SCHEDULE, table.SCHEDULING)


class SmsMessage(Strict):
    message: Annotated[str, sized(MESSAGE_TEXT), spelled(MESSAGE_TEXT)]
    templateName: Annotated[str | None, spelled(TEMPLATE, default=None, min_length=1)]


class SmsSimple(CampaignBase):
    """format: simple. A plain message, or a template message when ``message.templateName`` is set."""

    campaignType: Annotated[Literal["sms"], Lower]
    format: Annotated[Literal["simple"], Lower, spelled(FORMAT)]
    message: SmsMessage
    dialingStrategy: SmsDialingStrategy


class SmsAdvanced(CampaignBase):
    """format: advanced. Two-way messaging through a published start flow."""

    campaignType: Annotated[Literal["sms"], Lower]
    format: Annotated[Literal["advanced"], Lower, spelled(FORMAT)]
    experienceFlowName: Annotated[str, sized(FLOW), spelled(FLOW)]
    dialingStrategy: SmsDialingStrategy


SMS = CampaignType(
    name="sms",
    selector=FORMAT,
    modes=(Mode("simple", SmsSimple, SIMPLE_NODES), Mode("advanced", SmsAdvanced, ADVANCED_NODES)),
    list_type="sms",
    description="SMS campaign",
)
