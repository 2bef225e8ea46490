"""Fault injection: rules that make the emulator answer like a struggling Azure.

A rule matches requests by host role (`entra`, `devops` - Azure DevOps' OIDC endpoint - `arm`,
`scm`, `app`), HTTP method, a regular expression searched in the path, and optionally the site
(`app` or `app/slot`). It then waits
`delay` seconds and either drops the connection, answers with `status`/`body`/`headers`, or
(with neither) lets the request through: a pure delay. It fires `times` times (None: forever).

The role `deploy` applies inside Kudu's background deployment instead of to a request: its
path is matched against the site (`app` or `app/slot`), `delay` stretches the build step
(handy to provoke a 409) and a `status` >= 400 fails the deployment with `body` as the error.
The role `package` applies when a site fetches its `WEBSITE_RUN_FROM_PACKAGE` URL (path: the
site): `drop` or a `status` >= 400 makes the download fail with that answer, as a storage
account refusing or losing the request would.

Rules come from `--faults FILE` (a JSON list of rules, or `{"faults": [...]}`), from
`Emulator.faults.add(FaultRule(...))`, or from `POST /_emulator/faults` on the main port.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal, get_args

Role = Literal["entra", "devops", "arm", "scm", "app", "deploy", "package"]
ROLES: Final[tuple[Role, ...]] = get_args(Role)
RULE_FIELDS: Final = frozenset(
    {
        "role",
        "method",
        "path",
        "site",
        "status",
        "body",
        "json",
        "headers",
        "delay",
        "drop",
        "times",
    }
)


@dataclass(frozen=True, kw_only=True)
class FaultRule:
    """When a request matches, wait `delay`, then drop it, answer `status`, or pass it on."""

    role: Role | None = None
    method: str | None = None
    path: str = ""
    site: str | None = None
    status: int | None = None
    body: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    times: int | None = 1

    def __post_init__(self) -> None:
        try:
            re.compile(self.path)  # fail at creation, not at the first request
        except re.error as exc:
            msg = f"path {self.path!r} is not a regular expression: {exc}"
            raise ValueError(msg) from None
        if self.times is not None and self.times < 1:
            msg = f"times must be at least 1 (or None for always), not {self.times}"
            raise ValueError(msg)
        if self.status is not None and not 100 <= self.status <= 599:
            msg = f"status must be an HTTP status code, not {self.status}"
            raise ValueError(msg)

    def matches(self, role: Role, method: str, path: str, site: str | None) -> bool:
        """Whether this rule applies to the request."""
        return (
            (self.role is None or self.role == role)
            and (self.method is None or self.method.upper() == method.upper())
            and (self.site is None or (site is not None and self.site.lower() == site.lower()))
            and re.search(self.path, path) is not None
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultRule:
        """A rule from its JSON form; `json` (any value) is a shortcut for a JSON body."""
        unknown = set(data) - RULE_FIELDS
        if unknown:
            msg = f"unknown fault rule fields: {', '.join(sorted(unknown))}"
            raise ValueError(msg)
        headers = {str(k): str(v) for k, v in dict(data.get("headers", {})).items()}
        body = str(data.get("body", ""))
        if "json" in data:
            body = json.dumps(data["json"])
            headers.setdefault("Content-Type", "application/json; charset=utf-8")
        times = data.get("times", 1)
        return cls(
            role=_role(data.get("role")),
            method=_text(data.get("method")),
            path=str(data.get("path", "")),
            site=_text(data.get("site")),
            status=None if data.get("status") is None else int(data["status"]),
            body=body,
            headers=headers,
            delay=float(data.get("delay", 0.0)),
            drop=bool(data.get("drop", False)),
            times=None if times is None else int(times),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "method": self.method,
            "path": self.path,
            "site": self.site,
            "status": self.status,
            "body": self.body,
            "headers": dict(self.headers),
            "delay": self.delay,
            "drop": self.drop,
            "times": self.times,
        }


def _role(value: Any) -> Role | None:
    if value is None:
        return None
    for role in ROLES:
        if role == value:
            return role
    msg = f"unknown fault role {value!r}; use one of {', '.join(ROLES)}"
    raise ValueError(msg)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, kw_only=True)
class ActiveRule:
    """A rule with its id and how often it may still fire (None: always)."""

    id: str
    rule: FaultRule
    remaining: int | None


class Faults:
    """The live rule set; thread-safe. The first matching rule fires and uses up one time."""

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._active: list[ActiveRule] = []
        self._fired: dict[str, int] = {}
        for rule in rules:
            self.add(rule)

    def add(self, rule: FaultRule) -> str:
        """Append a rule; returns its id."""
        with self._lock:
            rule_id = f"fault-{next(self._ids)}"
            self._active.append(ActiveRule(id=rule_id, rule=rule, remaining=rule.times))
            return rule_id

    def load(self, path: Path) -> list[str]:
        """Add the rules of a JSON file: a list of rules or `{"faults": [...]}`."""
        return self.add_json(json.loads(path.read_text(encoding="utf-8")))

    def add_json(self, document: Any) -> list[str]:
        """Add one rule object, a list of them, or `{"faults": [...]}`."""
        if isinstance(document, dict) and set(document) == {"faults"}:
            document = document["faults"]
        items = document if isinstance(document, list) else [document]
        if not all(isinstance(item, dict) for item in items):
            msg = "fault rules must be JSON objects"
            raise ValueError(msg)
        rules = [FaultRule.from_json(item) for item in items]  # validate all before adding
        return [self.add(rule) for rule in rules]

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._active)
            self._active = [active for active in self._active if active.id != rule_id]
            return len(self._active) != before

    def clear(self) -> None:
        with self._lock:
            self._active.clear()

    def rules(self) -> tuple[ActiveRule, ...]:
        """The rules that may still fire."""
        with self._lock:
            return tuple(self._active)

    def fired(self, rule_id: str) -> int:
        """How often the rule fired (also after it was used up)."""
        with self._lock:
            return self._fired.get(rule_id, 0)

    def take(self, role: Role, method: str, path: str, site: str | None = None) -> FaultRule | None:
        """The first rule matching the request, counting one use of it."""
        with self._lock:
            for position, active in enumerate(self._active):
                if active.rule.matches(role, method, path, site):
                    self._use(position, active)
                    return active.rule
            return None

    def _use(self, position: int, active: ActiveRule) -> None:
        self._fired[active.id] = self._fired.get(active.id, 0) + 1
        if active.remaining is None:
            return
        if active.remaining <= 1:
            del self._active[position]
        else:
            self._active[position] = replace(active, remaining=active.remaining - 1)
