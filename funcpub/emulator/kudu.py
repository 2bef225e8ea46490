"""The SCM (Kudu) site of each app: zip deploy, deployment records and logs, settings.

Served on the site's own SCM port. Routes and shapes follow KuduLite
(Kudu.Services/Deployment/{PushDeploymentController,DeploymentController}.cs).

`SCM-DEPLOYMENT-ID`: as in KuduLite, a zipdeploy with `trackDeploymentProgress=true` (on
Windows: every zipdeploy) answers with a fresh dashed GUID there. It is the *tracking* id of
Azure's deployment-status API, NOT the id of the Kudu deployment record (KuduLite makes that a
new 32-hex GUID when the build starts). To follow a deployment, poll the 202's `Location`
(`/api/deployments/latest`): while it runs that answers 202 with this deployment's record (the
deployment lock admits one at a time), so its `id` can be read there.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from funcpub.emulator import flex
from funcpub.emulator.auth import scm_allows, scm_unauthorized
from funcpub.emulator.context import Context
from funcpub.emulator.deployments import PushRequest, Running, stream_to_file
from funcpub.emulator.records import FAILED, SUCCESS, Deployment, LogEntry, SiteRecord
from funcpub.emulator.web import empty_response, json_response, text_response

IN_PROGRESS: Final = (
    "There is a deployment currently in progress. Please try again when it completes."
)
RUN_FROM_REMOTE_ZIP: Final = (
    "Run-From-Zip is set to a remote URL using WEBSITE_RUN_FROM_PACKAGE or WEBSITE_USE_ZIP app "
    "setting. Deployment is not supported in this configuration."
)
FLEX_ZIPDEPLOY: Final = (
    "Flex Consumption apps do not support /api/zipdeploy; Azure deploys them with "
    "POST /api/publish."
)
SYNC_WAIT: Final = 3600.0  # seconds a synchronous zipdeploy request waits for its deployment
SCM_DEFAULTS: Final[Mapping[str, str]] = {
    "deployment_branch": "master",
    "SCM_TRACE_LEVEL": "1",
    "SCM_COMMAND_IDLE_TIMEOUT": "60",
    "SCM_LOGSTREAM_TIMEOUT": "7200",
    "SCM_BUILD_ARGS": "",
}

ScmHandler = Callable[[Context, Request, SiteRecord, Mapping[str, Any]], Response]

ROUTES: Final = Map(
    [
        Rule("/api/zipdeploy", endpoint="zipdeploy", methods=["POST"]),
        Rule("/zipdeploy", endpoint="zipdeploy", methods=["POST"]),
        Rule("/api/publish", endpoint="publish", methods=["POST"]),
        Rule("/api/deployments", endpoint="deployments", methods=["GET"]),
        Rule("/api/deployments/<deployment_id>", endpoint="deployment", methods=["GET"]),
        Rule("/api/deployments/<deployment_id>/log", endpoint="log", methods=["GET"]),
        Rule(
            "/api/deployments/<deployment_id>/log/<entry_id>", endpoint="details", methods=["GET"]
        ),
        Rule("/api/settings", endpoint="settings", methods=["GET"]),
        Rule("/api/settings/<key>", endpoint="setting", methods=["GET"]),
        Rule("/api/isdeploying", endpoint="isdeploying", methods=["GET"]),
        Rule("/", endpoint="home", methods=["GET"]),
    ],
    strict_slashes=False,
)


def handler(context: Context, site_key: str) -> Callable[[Request], Response]:
    """The request handler of one site's SCM host."""

    def handle(request: Request) -> Response:
        site = context.store.site(site_key)
        if site is None:
            return text_response("Site not found.", 404)
        tenant = _tenant_of(context, site)
        if not scm_allows(request, context.store, site, tenant_id=tenant):
            return scm_unauthorized()
        try:
            endpoint, values = ROUTES.bind_to_environ(request.environ).match()
        except HTTPException as exc:
            return text_response(exc.description or "Not found.", exc.code or 404)
        return HANDLERS[str(endpoint)](context, request, site, values)

    return handle


def _tenant_of(context: Context, site: SiteRecord) -> str:
    subscription = context.store.subscription(site.subscription_id)
    return "" if subscription is None else subscription.tenant_id


# -- zipdeploy ------------------------------------------------------------------------------


def _flag(request: Request, name: str) -> bool:
    """ASP.NET's case-insensitive bool binding of a query parameter."""
    for key, value in request.args.items():
        if key.lower() == name.lower():
            return value.strip().lower() == "true"
    return False


def _arg(request: Request, name: str, default: str) -> str:
    for key, value in request.args.items():
        if key.lower() == name.lower():
            return value
    return default


def zipdeploy(
    context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]
) -> Response:
    """`POST /api/zipdeploy[?isAsync=true]`: stream the zip to disk, then deploy it."""
    tracks = _flag(request, "trackDeploymentProgress") or site.os == "windows"
    tracking_id = str(uuid.uuid4())
    tracking = {"SCM-DEPLOYMENT-ID": tracking_id} if tracks else {}
    if site.is_flex:
        return text_response(FLEX_ZIPDEPLOY, 404, tracking)
    package = _receive(context, request)
    if package is None:
        return text_response("The request has no zip file.", 400, tracking)
    if _runs_from_remote_zip(site, request):
        package.unlink(missing_ok=True)
        return text_response(RUN_FROM_REMOTE_ZIP, 409, tracking)
    push = PushRequest(
        site_key=site.key,
        package=package,
        deployer=_arg(request, "deployer", "Push-Deployer"),
        message=_arg(request, "message", "Created via a push deployment"),
        author=_arg(request, "author", "N/A"),
        author_email=_arg(request, "authorEmail", "N/A"),
        tracking_id=tracking_id,
    )
    running = context.deployments.start(push)
    if running is None:
        package.unlink(missing_ok=True)
        return text_response(IN_PROGRESS, 409, tracking)
    if _flag(request, "isAsync"):
        return empty_response(202, {**tracking, "Location": _latest_url(request, push.deployer)})
    return _finish_sync(running, tracking)


def publish(context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]) -> Response:
    """`POST /api/publish?RemoteBuild=`: Flex Consumption's OneDeploy (funcpub.emulator.flex)."""
    refused = flex.refusal(request, site)
    if refused is not None:
        return refused
    package = _receive(context, request)
    if package is None:
        return text_response("The request has no zip file.", 400)
    push = flex.push_request(
        site,
        package,
        deployer=_arg(request, "Deployer", "OneDeploy"),
        author=_arg(request, "author", "N/A"),
        remote_build=_flag(request, "RemoteBuild"),
    )
    if context.deployments.start(push) is None:
        package.unlink(missing_ok=True)
        return text_response(IN_PROGRESS, 409)
    return json_response(push.record_id, status=202)


def _receive(context: Context, request: Request) -> Path | None:
    """Stream the body (or the first file of a multipart form) to a file; never into memory."""
    destination = context.deployments.upload_dir() / f"{uuid.uuid4()}.zip"
    try:
        if request.mimetype == "multipart/form-data":
            upload = next(iter(request.files.values()), None)
            if upload is None:
                return None
            stream_to_file(upload.stream, destination)
        else:
            stream_to_file(request.stream, destination)
    except BaseException:  # the client went away mid-upload: keep no partial zip
        destination.unlink(missing_ok=True)
        raise
    if destination.stat().st_size == 0:
        destination.unlink()
        return None
    return destination


def _runs_from_remote_zip(site: SiteRecord, request: Request) -> bool:
    if (
        site.plan == "Y1"
        and site.os == "linux"
        and _flag(request, "overwriteWebsiteRunFromPackage")
    ):
        return False
    for name in ("WEBSITE_RUN_FROM_PACKAGE", "WEBSITE_USE_ZIP"):
        value = site.app_settings.get(name, "").strip().lower()
        if value.startswith(("http://", "https://")):
            return True
    return False


def _latest_url(request: Request, deployer: str) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d_%H-%M-%SZ")
    return f"https://{request.host}/api/deployments/latest?deployer={deployer}&time={moment}"


def _finish_sync(running: Running, headers: Mapping[str, str]) -> Response:
    """A synchronous push answers when the deployment ends: 200, or 500 when it failed."""
    running.done.wait(SYNC_WAIT)
    outcome = running.outcome
    if outcome is not None and outcome.status == SUCCESS:
        return empty_response(200, headers)
    return text_response("Deployment Failed.", 500, headers)


# -- deployment records ---------------------------------------------------------------------


def record_json(record: Deployment, *, base: str, site: SiteRecord) -> Mapping[str, Any]:
    """A Kudu DeployResult with absolute `url` and `log_url`."""
    url = f"{base}/api/deployments/{record.id}"
    return {
        "id": record.id,
        "status": record.status,
        "status_text": record.status_text,
        "author_email": record.author_email,
        "author": record.author,
        "deployer": record.deployer,
        "message": record.message,
        "progress": record.progress,
        "received_time": record.received_time,
        "start_time": record.start_time,
        "end_time": record.end_time,
        "last_success_end_time": record.last_success_end_time,
        "complete": record.complete,
        "active": record.id == site.active_deployment,
        "is_temp": record.is_temp,
        "is_readonly": record.is_readonly,
        "url": url,
        "log_url": f"{url}/log",
        "site_name": site.name,
    }


def _base(request: Request) -> str:
    return f"https://{request.host}"


def deployments(
    context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]
) -> Response:
    """`GET /api/deployments`: every record, newest first."""
    records = context.store.deployments(site.key)
    base = _base(request)
    return json_response([record_json(r, base=base, site=site) for r in records])


def deployment(
    context: Context, request: Request, site: SiteRecord, values: Mapping[str, Any]
) -> Response:
    """`GET /api/deployments/{id|latest}`."""
    deployment_id = str(values["deployment_id"])
    records = context.store.deployments(site.key)
    if deployment_id == "latest":
        pending = next((r for r in records if r.status not in (SUCCESS, FAILED)), None)
        if pending is not None:
            body = record_json(pending, base=_base(request), site=site)
            return json_response(body, status=202, headers={"Location": request.url})
        ended = sorted((r for r in records if r.end_time), key=lambda r: r.end_time or "")
        deployment_id = ended[-1].id if ended else deployment_id
    record = context.store.deployment(site.key, deployment_id)
    if record is None or flex.just_received(site, record):
        return text_response(f"Deployment '{deployment_id}' not found.", 404)
    # The site as it is now, read after the record: a deployment seen succeeded is seen active
    # (the request's copy of the site may predate its success).
    current = context.store.site(site.key) or site
    return json_response(record_json(record, base=_base(request), site=current))


def _entry_json(entry: LogEntry, *, url: str, has_details: bool) -> Mapping[str, Any]:
    return {
        "log_time": entry.log_time,
        "id": entry.id,
        "message": entry.message,
        "type": entry.type,
        "details_url": f"{url}/{entry.id}" if has_details else None,
    }


def log(
    context: Context, request: Request, site: SiteRecord, values: Mapping[str, Any]
) -> Response:
    """`GET /api/deployments/{id}/log`: the top-level entries, `details_url` where they have
    children."""
    deployment_id = str(values["deployment_id"])
    entries = context.store.logs(site.key, deployment_id)
    if entries is None:
        return text_response(f"Deployment '{deployment_id}' not found.", 404)
    parents = {e.parent for e in entries if e.parent is not None}
    url = f"{_base(request)}/api/deployments/{deployment_id}/log"
    return json_response(
        [_entry_json(e, url=url, has_details=e.id in parents) for e in entries if e.parent is None]
    )


def details(
    context: Context, request: Request, site: SiteRecord, values: Mapping[str, Any]
) -> Response:
    """`GET /api/deployments/{id}/log/{entryId}`: the entry's children; 404 when none."""
    deployment_id, entry_id = str(values["deployment_id"]), str(values["entry_id"])
    entries = context.store.logs(site.key, deployment_id) or ()
    children = [e for e in entries if e.parent == entry_id]
    if not children:
        return text_response(
            f"Log entry details for '{entry_id}' of deployment '{deployment_id}' not found.", 404
        )
    url = f"{_base(request)}/api/deployments/{deployment_id}/log/{entry_id}"
    return json_response([_entry_json(e, url=url, has_details=False) for e in children])


# -- settings and status --------------------------------------------------------------------


def scm_settings(site: SiteRecord) -> dict[str, str]:
    """What Kudu's `/api/settings` reports: its defaults, then the app settings."""
    return {**SCM_DEFAULTS, **site.app_settings}


def settings(
    context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]
) -> Response:
    return json_response(scm_settings(site))


def setting(
    context: Context, request: Request, site: SiteRecord, values: Mapping[str, Any]
) -> Response:
    value = scm_settings(site).get(str(values["key"]))
    if value is None:
        return text_response(f"'{values['key']}' not found.", 404)
    return text_response(value, 200)


def isdeploying(
    context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]
) -> Response:
    busy = context.deployments.is_deploying(site.key)
    return json_response({"value": str(busy), "msg": "Deployment in progress" if busy else ""})


def home(context: Context, request: Request, site: SiteRecord, _: Mapping[str, Any]) -> Response:
    body = (
        "<html><body><h1>Kudu Services</h1>"
        f"<p>{site.full_name} (funcpub emulator)</p></body></html>"
    )
    return Response(body, content_type="text/html; charset=utf-8")


HANDLERS: Final[Mapping[str, ScmHandler]] = {
    "zipdeploy": zipdeploy,
    "publish": publish,
    "deployments": deployments,
    "deployment": deployment,
    "log": log,
    "details": details,
    "settings": settings,
    "setting": setting,
    "isdeploying": isdeploying,
    "home": home,
}
