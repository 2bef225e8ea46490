"""The app host of each site: HTTP-triggered functions under `/api/` and the admin API.

Served on the site's app port. Keys work as in the Functions host: `?code=` or the
`x-functions-key` header; `function` level accepts the default function key or the master key,
`admin` level only the master key. Routes come from the site's latest index.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, Final

from werkzeug.wrappers import Request, Response

from funcpub.emulator.context import Context
from funcpub.emulator.records import SiteRecord
from funcpub.emulator.routing import match_route
from funcpub.emulator.runtime import index_record, indexed_function
from funcpub.emulator.web import empty_response, json_response
from funcpub.functionhost import HttpCall, IndexedFunction

LOG: Final = logging.getLogger("funcpub.emulator.app")
HOST_VERSION: Final = "4.1037.1.1"
MAX_BODY: Final = 100 * 1024 * 1024  # the Functions host's HTTP request limit
HOP_BY_HOP: Final = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def handler(context: Context, site_key: str) -> Callable[[Request], Response]:
    """The request handler of one site's app host."""

    def handle(request: Request) -> Response:
        site = context.store.site(site_key)
        if site is None:
            return empty_response(404)
        path = request.path
        if path == "/api" or path.startswith("/api/"):
            return _invoke(context, request, site, path.removeprefix("/api").lstrip("/"))
        if path.rstrip("/") == "/admin/host/status" and request.method == "GET":
            return _host_status(context, request, site)
        if path == "/" and request.method == "GET":
            return _home(site)
        return empty_response(404)

    return handle


def _key(request: Request) -> str:
    return request.args.get("code") or request.headers.get("x-functions-key", "")


def _same(given: str, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def authorized(request: Request, site: SiteRecord, auth_level: str | None) -> bool:
    """Whether the request's key satisfies the function's auth level (default: function)."""
    level = (auth_level or "function").lower()
    if level == "anonymous":
        return True
    key = _key(request)
    if level == "admin":
        return _same(key, site.master_key)
    return _same(key, site.function_key) or _same(key, site.master_key)


def _functions(site: SiteRecord) -> list[IndexedFunction]:
    if site.index is None:
        return []
    return [indexed_function(f) for f in site.index.functions]


def _invoke(context: Context, request: Request, site: SiteRecord, route: str) -> Response:
    match = match_route(_functions(site), request.method, route)
    if match is None:
        return empty_response(404)
    function, route_params = match
    if not authorized(request, site, function.auth_level):
        return empty_response(401)
    if (request.content_length or 0) > MAX_BODY:
        return empty_response(413)
    try:
        site = _ensure_host(context, site)
        result = context.runtimes.invoke(site, function, _call(request, route_params))
    except Exception:
        LOG.exception("invoking %s of %s failed", function.name, site.full_name)
        return empty_response(500)
    headers = {k: v for k, v in result.headers.items() if k.lower() not in HOP_BY_HOP}
    return Response(result.body, status=result.status, headers=headers)


def _ensure_host(context: Context, site: SiteRecord) -> SiteRecord:
    """Start the site's host after an emulator restart or a recycle; refresh its index."""
    result = context.runtimes.ensure(site)
    if result is None:
        return site
    deployment = None if site.index is None else site.index.deployment_id
    index = index_record(result, deployment)
    return context.store.update_site(site.key, lambda s: replace(s, index=index))


def _call(request: Request, route_params: Mapping[str, str]) -> HttpCall:
    return HttpCall(
        method=request.method,
        url=request.url,
        headers=dict(request.headers.items()),
        params=dict(request.args.items()),
        route_params=dict(route_params),
        body=request.get_data(cache=False),
    )


def host_id(site: SiteRecord) -> str:
    """The host id: the site name, lower case, at most 32 characters (no trailing hyphen)."""
    return site.full_name.replace("/", "-").lower()[:32].rstrip("-")


def host_status(context: Context, site: SiteRecord) -> dict[str, Any]:
    """`GET /admin/host/status`: `Error` with the indexing errors, else `Running`."""
    errors = list(site.index.errors) if site.index is not None else []
    return {
        "id": host_id(site),
        "state": "Error" if errors else "Running",
        "version": HOST_VERSION,
        "versionDetails": f"{HOST_VERSION} Commit hash: funcpub-emulator",
        "platformVersion": "",
        "instanceId": site.key,
        "computerName": "",
        "processUptime": context.runtimes.uptime_ms(site.key),
        "functionAppContentEditingState": "NotAllowed",
        "errors": errors,
    }


def _host_status(context: Context, request: Request, site: SiteRecord) -> Response:
    if not _same(_key(request), site.master_key):
        return empty_response(401)
    return json_response(host_status(context, site))


def _home(site: SiteRecord) -> Response:
    body = (
        "<html><body><h1>Your Functions 4.0 app is up and running</h1>"
        f"<p>{site.full_name} (funcpub emulator)</p></body></html>"
    )
    return Response(body, content_type="text/html; charset=utf-8")
