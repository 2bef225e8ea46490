"""How app-setting values may be shown: in clear, as a short hash, or masked.

The rule, for every value funcpub prints or puts in JSON:

1. A Key Vault reference (`@Microsoft.KeyVault(...)`) is shown as written: it names a secret,
   it is not one, and funcpub never resolves it.
2. A value whose key or content looks like a credential (KEY, SECRET, PASSWORD, CONNECTION,
   `AccountKey=`, `sig=`, a URL with a password, ...) is masked: `***`, nothing else.
3. A value of a well-known, non-secret setting (`PUBLIC_SETTINGS`: worker tuning, feature flags,
   build switches) is shown in clear, and so is a value the caller marks `public` (one written in
   pyproject.toml, which is committed with the app anyway).
4. Anything else (a local.settings.json value of a key funcpub does not know) is shown as
   `sha256:` and the first 8 hex digits of its SHA-256: enough to see that two values differ,
   not enough to read one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from typing import Final

MASK: Final = "***"
HASH_PREFIX: Final = "sha256:"
HASH_DIGITS: Final = 8
_SECRET_KEY = re.compile(
    r"KEY|SECRET|PASSWORD|PASSWD|PWD|TOKEN|CONNECTION|CONNSTR|SAS|SIGNATURE|CREDENTIAL"
    r"|^AzureWebJobsStorage$|^AzureWebJobsDashboard$",
    re.IGNORECASE,
)
_SECRET_VALUE = re.compile(
    r"AccountKey=|SharedAccessKey=|SharedAccessSignature=|Password=|[?&]sig=|://[^/@\s]+:[^/@\s]+@",
    re.IGNORECASE,
)
_KEY_VAULT_REFERENCE = re.compile(r"\s*@Microsoft\.KeyVault\(.*\)\s*", re.IGNORECASE | re.DOTALL)
# Settings whose values are configuration, never credentials (upper case: names are compared
# case-insensitively, as Azure does).
PUBLIC_SETTINGS: Final = frozenset(
    name.upper()
    for name in (
        "FUNCTIONS_WORKER_RUNTIME",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_PROCESS_COUNT",
        "FUNCTIONS_WORKER_SHARED_MEMORY_DATA_TRANSFER_ENABLED",
        "PYTHON_THREADPOOL_THREAD_COUNT",
        "PYTHON_ENABLE_WORKER_EXTENSIONS",
        "PYTHON_ISOLATE_WORKER_DEPENDENCIES",
        "PYTHON_ENABLE_DEBUG_LOGGING",
        "PYTHON_ENABLE_OPENTELEMETRY",
        "PYTHON_ENABLE_INIT_INDEXING",
        "AzureWebJobsFeatureFlags",
        "AzureWebJobsDisableHomepage",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "ENABLE_ORYX_BUILD",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_CONTENTSHARE",
        "WEBSITE_TIME_ZONE",
        "WEBSITES_ENABLE_APP_SERVICE_STORAGE",
        "linuxFxVersion",
    )
)
# Values this short (and not secret-looking) are not registered for redaction: they are words
# like `orders` or `true` that would blank out unrelated output. funcpub hashes them anyway.
MIN_REGISTERED: Final = 8
MIN_REGISTERED_SECRET: Final = 3


def looks_secret(key: str, value: str) -> bool:
    """Whether a setting probably holds a credential (by its name or its value)."""
    return bool(_SECRET_KEY.search(key) or _SECRET_VALUE.search(value))


def is_key_vault_reference(value: str) -> bool:
    """`@Microsoft.KeyVault(SecretUri=...)` / `(VaultName=...;SecretName=...)`."""
    return bool(_KEY_VAULT_REFERENCE.fullmatch(value))


def is_public(key: str) -> bool:
    """Whether `key` is a well-known setting whose values are not secrets."""
    return key.upper() in PUBLIC_SETTINGS


def short_hash(value: str) -> str:
    """`sha256:1a2b3c4d`: tells values apart without revealing them."""
    return HASH_PREFIX + hashlib.sha256(value.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def shown_value(key: str, value: str, *, public: bool = False) -> str:
    """`value` as it may be printed (see the module docstring for the rule)."""
    if is_key_vault_reference(value):
        return value.strip()
    if looks_secret(key, value):
        return MASK
    if public or is_public(key):
        return value
    return short_hash(value)


def shown_connection_string(value: str) -> str:
    """A connection string as it may be printed: a Key Vault reference as written, else `***`.

    Connection strings are credentials by nature, whatever their name.
    """
    return value.strip() if is_key_vault_reference(value) else MASK


def connection_string_secrets(values: Iterable[str]) -> Iterator[str]:
    """The connection strings of `values` the console must never print (see secret_values)."""
    return secret_values(("CONNECTION_STRING", value) for value in values)


def is_clear(key: str, value: str, *, public: bool = False) -> bool:
    """Whether `shown_value` prints `value` itself."""
    if is_key_vault_reference(value):
        return True
    return not looks_secret(key, value) and (public or is_public(key))


def secret_values(settings: Iterable[tuple[str, str]]) -> Iterator[str]:
    """The values of `settings` the console must never print (for `Console.secret`).

    Every value not shown in clear, except short plain words (see MIN_REGISTERED): redacting
    `true` everywhere would break the output, and funcpub never prints them anyway.
    """
    for key, value in settings:
        if is_key_vault_reference(value) or is_clear(key, value):
            continue
        size = len(value.strip())
        if size >= MIN_REGISTERED or (looks_secret(key, value) and size >= MIN_REGISTERED_SECRET):
            yield value
