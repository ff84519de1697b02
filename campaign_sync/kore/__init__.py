"""The HTTP client for the Kore.ai Campaign Management API (v2), the only package that imports httpx.

    creds = Credentials.from_environment(env.auth, os.environ, redactor)
    with KoreClient(ClientSettings.from_environment(env), creds, redactor) as client:
        client.list_campaigns("sms")

Modules, one noun each: ``settings`` (what to talk to, tunables), ``auth`` (credentials, the
JWT), ``ratelimit`` (the shared sliding-window limiter), ``retry`` (the tenacity policy),
``responses`` (status and body to data or error), ``session`` (one HTTP attempt), ``counter``
(requests sent) and ``client`` (the endpoints). Design notes live in each module's docstring.
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
