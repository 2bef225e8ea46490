"""Flex Consumption's OneDeploy on the SCM host: `POST /api/publish?RemoteBuild=true|false`.

As az CLI, Core Tools and azd see it (see docs/research, "Flex Consumption publish"): a bearer
token only (Basic is refused even where the policy allows it), the zip as the body, **202** with
the deployment id as a JSON string; the record can then be polled at `/api/deployments/{id}`
(200 while it runs, status 0..6), but for a moment right after the 202 it answers **404**.
`/api/zipdeploy` does not exist on Flex (404).
"""

from __future__ import annotations

import datetime
import uuid
from pathlib import Path
from typing import Final

from werkzeug.wrappers import Request, Response

from funcpub.emulator.deployments import PushRequest
from funcpub.emulator.records import Deployment, SiteRecord
from funcpub.emulator.web import text_response

# How long a new Flex deployment answers 404 (the transient 404 clients must ride out).
HIDDEN_FOR: Final = datetime.timedelta(seconds=0.5)
NOT_FLEX: Final = "The /api/publish endpoint with RemoteBuild is for Flex Consumption apps."
BASIC_REFUSED: Final = "Basic authentication is not supported for Flex Consumption apps."


def refusal(request: Request, site: SiteRecord) -> Response | None:
    """Why `/api/publish` refuses this request, or None."""
    if not site.is_flex:
        return text_response(NOT_FLEX, 400)
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        return text_response(BASIC_REFUSED, 401)
    return None


def push_request(
    site: SiteRecord, package: Path, *, deployer: str, author: str, remote_build: bool
) -> PushRequest:
    """A Flex deployment: its record id is the one the 202 names."""
    return PushRequest(
        site_key=site.key,
        package=package,
        deployer=deployer,
        message="OneDeploy",
        author=author,
        author_email="N/A",
        tracking_id="",
        record_id=str(uuid.uuid4()),
        remote_build=remote_build,
    )


def just_received(site: SiteRecord, record: Deployment) -> bool:
    """Whether a Flex record is still too new to be seen (the transient 404)."""
    if not site.is_flex or record.is_temp:
        return False
    received = datetime.datetime.fromisoformat(record.received_time[:26] + "+00:00")
    return datetime.datetime.now(datetime.timezone.utc) - received < HIDDEN_FOR
