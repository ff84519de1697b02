"""Voice campaigns: Agentless (experience flow), Progressive and Preview (agent queue)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from campaign_sync.manifests.models.common import CampaignBase, DncList, Lower, Title, VoiceDialingStrategy


class VoiceBase(CampaignBase):
    campaignType: Annotated[Literal["voice"], Lower]
    dncLists: DncList  # required for voice (v2 API)
    dialingStrategy: VoiceDialingStrategy


class VoiceAgentless(VoiceBase):
    dialingMode: Annotated[Literal["Agentless"], Title]
    experienceFlowName: Annotated[str, Field(min_length=1)]
    enableMachineDetect: Annotated[Literal["no", "detect", "disconnect"] | None, Lower] = None


class _Queued(VoiceBase):
    queueName: Annotated[str, Field(min_length=1, validation_alias=AliasChoices("queueName", "queue_name"))]


class VoiceProgressive(_Queued):
    dialingMode: Annotated[Literal["Progressive"], Title]


class VoicePreview(_Queued):
    dialingMode: Annotated[Literal["Preview"], Title]
    maxSkips: Annotated[int, Field(ge=0, le=100)]
