"""Connection strings of a function app: their ARM types and the environment variables they become.

Azure keeps an app's connection strings apart from its app settings (ARM
`config/connectionstrings`, each a value with a type) and hands each to the app as an environment
variable whose prefix says the type: `CUSTOMCONNSTR_<name>`, `SQLAZURECONNSTR_<name>`, ...
(https://learn.microsoft.com/azure/app-service/reference-app-settings#variable-prefixes).
So the type decides the variable name the code reads: funcpub keeps the type of an existing
connection string, and gives a new one `Custom` unless the value or the provider name says
clearly what it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

CUSTOM: Final = "Custom"
# ARM's ConnectionStringType (azure-mgmt-web) and the prefix of each type's variable.
ENVIRONMENT_PREFIXES: Final[Mapping[str, str]] = {
    "MySql": "MYSQLCONNSTR_",
    "SQLServer": "SQLCONNSTR_",
    "SQLAzure": "SQLAZURECONNSTR_",
    CUSTOM: "CUSTOMCONNSTR_",
    "NotificationHub": "NOTIFICATIONHUBCONNSTR_",
    "ServiceBus": "SERVICEBUSCONNSTR_",
    "EventHub": "EVENTHUBCONNSTR_",
    "ApiHub": "APIHUBCONNSTR_",
    "DocDb": "DOCDBCONNSTR_",
    "RedisCache": "REDISCACHECONNSTR_",
    "PostgreSQL": "POSTGRESQLCONNSTR_",
}
_BY_LOWER: Final = {name.lower(): name for name in ENVIRONMENT_PREFIXES}
# ADO.NET provider names (local.settings.json's `ProviderName`).
_PROVIDERS: Final[Mapping[str, str]] = {
    "system.data.sqlclient": "SQLServer",
    "microsoft.data.sqlclient": "SQLServer",
    "mysql.data.mysqlclient": "MySql",
    "mysqlconnector": "MySql",
    "npgsql": "PostgreSQL",
}
# Values whose service is certain from the host name or scheme.
_RECOGNISED: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"\.database\.windows\.net\b", "SQLAzure"),
        (r"\.postgres\.database\.azure\.com\b|^\s*postgres(?:ql)?://", "PostgreSQL"),
        (r"\.mysql\.database\.azure\.com\b|^\s*mysql://", "MySql"),
        (r"\.documents\.azure\.com\b", "DocDb"),
        (r"\.redis\.cache\.windows\.net\b", "RedisCache"),
        (r"Endpoint\s*=\s*sb://[^;]*\.servicebus\.windows\.net", "ServiceBus"),
    )
)


def canonical_type(name: str) -> str | None:
    """ARM's spelling of a connection string type (case-insensitive); None when unknown."""
    return _BY_LOWER.get(name.strip().lower())


def inferred_type(value: str, provider: str | None = None) -> str:
    """The type of a new connection string: from its provider name or value, else Custom."""
    by_provider = _PROVIDERS.get((provider or "").strip().lower())
    by_value = next((kind for pattern, kind in _RECOGNISED if pattern.search(value)), None)
    if by_provider == "SQLServer" and by_value == "SQLAzure":
        return by_value  # SQL Server's provider on Azure SQL's host names
    return by_provider or by_value or CUSTOM


def environment_name(name: str, kind: str) -> str:
    """The environment variable the app reads the connection string from."""
    return ENVIRONMENT_PREFIXES.get(kind, ENVIRONMENT_PREFIXES[CUSTOM]) + name


@dataclass(frozen=True, kw_only=True)
class ConnectionString:
    """A connection string's value and ARM type."""

    value: str
    type: str
