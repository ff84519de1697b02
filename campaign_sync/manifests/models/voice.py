"""The voice campaign type: its rows of the field table, its models per dialing mode, its descriptor.

Agentless (an experience flow), Progressive and Preview (an agent queue). Registered in
``core/campaign_types.py``.
"""

from __future__ import annotations

from typing import Annotated, Literal

import campaign_sync.core.fields as table
from campaign_sync.core.fields import CampaignType, Choice, Field, Integer, Mode, ReadBack, Role, Text
from campaign_sync.core.values import lower, title, upper
from campaign_sync.manifests.models.common import (
    CampaignBase,
    DncList,
    Lower,
    SmsDialingStrategy,
    Title,
    Upper,
    in_range,
    sized,
    spelled,
)

DIALING_MODE = Field(
    ("dialingMode",),
    Choice(("Agentless", "Progressive", "Preview"), title),
    role=Role.SELECTOR,
    description="Agentless (an experience flow) | Progressive | Preview (an agent queue); any case.",
)
FLOW = Field(
    ("experienceFlowName",),
    Text(1),
    read_back=ReadBack.PAIRED,
    id_path=("experienceFlow",),
    connection=True,
    description="Name of the start flow; GET shows a cf- id, the list item's connection the name.",
)
MACHINE_DETECT = Field(
    ("enableMachineDetect",),
    Choice(("no", "detect", "disconnect"), lower),
    read_back=ReadBack.NEVER,
    required=False,
    nullable=True,
    description="no | detect | disconnect. The API never shows it back: declare it, or an update "
    "keeps it only if campaign-sync wrote it before.",
)
QUEUE = Field(
    ("queueName",),
    Text(1),
    spellings=("queue_name",),
    write=("queue_name",),
    read=(("queue_name",), ("queueName",)),
    read_back=ReadBack.CONNECTION,
    connection=True,
    description="Agent queue name; only the list item's connection shows it back.",
)
MAX_SKIPS = Field(("maxSkips",), Integer(0, 100), description="Skips allowed per agent, 0..100.")
DIALING_ORDER = Field(
    ("dialingStrategy", "dialingOrder"),
    Choice(("FIFO", "LIFO"), upper),
    description="FIFO | LIFO (any case).",
)
ATTEMPTS = Field(("dialingStrategy", "maxAttemptsPerRecord"), Integer(1, 100), description="1..100.")
RETRY = Field(("dialingStrategy", "defaultRetryPeriod"), Integer(1, 1440), description="Minutes, 1..1440.")
RING = Field(("dialingStrategy", "maxRingTime"), Integer(5, 120), description="Seconds, 5..120.")

_HEAD = table.head("voice", table.DNC)
_STRATEGY = (
    table.STRATEGY,
    table.CALLER,
    table.PHONE,
    DIALING_ORDER,
    ATTEMPTS,
    RETRY,
    RING,
    *table.calling_hours(),
)
_TAIL = (*_STRATEGY, table.SCHEDULE, table.SCHEDULING)
AGENTLESS_NODES = (*_HEAD, DIALING_MODE, FLOW, MACHINE_DETECT, *_TAIL)
PROGRESSIVE_NODES = (*_HEAD, DIALING_MODE, QUEUE, *_TAIL)
PREVIEW_NODES = (*_HEAD, DIALING_MODE, QUEUE, MAX_SKIPS, *_TAIL)


class VoiceDialingStrategy(SmsDialingStrategy):
    dialingOrder: Annotated[Literal["FIFO", "LIFO"], Upper, spelled(DIALING_ORDER)]
    maxAttemptsPerRecord: Annotated[int, in_range(ATTEMPTS), spelled(ATTEMPTS)]
    defaultRetryPeriod: Annotated[int, in_range(RETRY), spelled(RETRY)]
    maxRingTime: Annotated[int, in_range(RING), spelled(RING)]


class VoiceBase(CampaignBase):
    campaignType: Annotated[Literal["voice"], Lower]
    dncLists: DncList  # required for voice (v2 API)
    dialingStrategy: VoiceDialingStrategy


class VoiceAgentless(VoiceBase):
    dialingMode: Annotated[Literal["Agentless"], Title, spelled(DIALING_MODE)]
    experienceFlowName: Annotated[str, sized(FLOW), spelled(FLOW)]
    enableMachineDetect: Annotated[
        Literal["no", "detect", "disconnect"] | None, Lower, spelled(MACHINE_DETECT)
    ] = None


class _Queued(VoiceBase):
    queueName: Annotated[str, sized(QUEUE), spelled(QUEUE)]


class VoiceProgressive(_Queued):
    dialingMode: Annotated[Literal["Progressive"], Title, spelled(DIALING_MODE)]


class VoicePreview(_Queued):
    dialingMode: Annotated[Literal["Preview"], Title, spelled(DIALING_MODE)]
    maxSkips: Annotated[int, in_range(MAX_SKIPS), spelled(MAX_SKIPS)]


VOICE = CampaignType(
    name="voice",
    selector=DIALING_MODE,
    modes=(
        Mode("Agentless", VoiceAgentless, AGENTLESS_NODES),
        Mode("Progressive", VoiceProgressive, PROGRESSIVE_NODES),
        Mode("Preview", VoicePreview, PREVIEW_NODES),
    ),
    list_type="voice",
    description="voice campaign",
)
