"""The HTTP client for the Kore.ai Campaign Management API (v2), the only package that imports httpx.

    creds = Credentials.from_environment(env.auth, os.environ, redactor)
    with KoreClient(ClientSettings.from_environment(env), creds, redactor) as client:
        client.list_campaigns("sms")

Modules, one noun each: ``settings`` (what to talk to, tunables), ``auth`` (credentials, the
JWT), ``budget`` (the run's deadline, ``--timeout``), ``ratelimit`` (the account's pace: shared
sliding window, pause after a 429, adaptive rate), ``retry`` (the tenacity policy), ``responses``
(status and body to data or error), ``session`` (one HTTP attempt), ``notices`` (progress lines
for waits and retries), ``counter`` (requests sent), ``caller`` (one logical call under its
retry controller) and ``client`` (the endpoints). Design notes live in each module's docstring.
"""

from .auth import Credentials
from .client import CampaignType, KoreClient, campaign_id_of
from .counter import RequestCounter
from .settings import ClientSettings

__all__ = [
    "CampaignType",
    "ClientSettings",
    "Credentials",
    "KoreClient",
    "RequestCounter",
    "campaign_id_of",
]
