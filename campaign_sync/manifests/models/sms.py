"""SMS campaigns: format simple (plain or template message) and advanced (experience flow)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field

from campaign_sync.manifests.models.common import CampaignBase, Lower, SmsDialingStrategy, Strict


class SmsMessage(Strict):
    message: Annotated[str, Field(min_length=1, description="Plain text; sent base64-encoded.")]
    templateName: Annotated[
        str | None,
        Field(
            default=None,
            min_length=1,
            validation_alias=AliasChoices("templateName", "template_name"),
            description="Name of a pre-approved SMS template; the message must match its body.",
        ),
    ]


class SmsSimple(CampaignBase):
    """format: simple. A plain message, or a template message when ``message.templateName`` is set."""

    campaignType: Annotated[Literal["sms"], Lower]
    format: Annotated[Literal["simple"], Lower]
    message: SmsMessage
    dialingStrategy: SmsDialingStrategy


class SmsAdvanced(CampaignBase):
    """format: advanced. Two-way messaging through a published start flow."""

    campaignType: Annotated[Literal["sms"], Lower]
    format: Annotated[Literal["advanced"], Lower]
    experienceFlowName: Annotated[str, Field(min_length=1)]
    dialingStrategy: SmsDialingStrategy
