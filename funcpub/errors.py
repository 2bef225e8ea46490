"""The funcpub error hierarchy: one class per exit code.

Every error a user can cause is a `FuncpubError`; the CLI's single error boundary
(`funcpub.cli.run`) turns it into a message, an optional hint and the class's exit code.
"""

from __future__ import annotations

from typing import ClassVar, Final

EXIT_OK: Final = 0
EXIT_INTERNAL: Final = 1
EXIT_INTERRUPTED: Final = 130


class FuncpubError(Exception):
    """Base class: a failure explained to the user, never shown as a traceback."""

    exit_code: ClassVar[int] = EXIT_INTERNAL
    kind: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigError(FuncpubError):
    """Bad command-line options, environment variables or `[tool.funcpub]` configuration."""

    exit_code = 2
    kind = "config"


class ValidationError(FuncpubError):
    """The function app is not valid: layout, files, code or versions."""

    exit_code = 3
    kind = "validation"


class BuildError(FuncpubError):
    """Building the dependencies or the package failed."""

    exit_code = 4
    kind = "build"


class ContainerError(FuncpubError):
    """The container engine is missing, unreachable or a container build failed."""

    exit_code = 5
    kind = "container"


class DeployError(FuncpubError):
    """Deploying to Azure failed or could not be verified."""

    exit_code = 6
    kind = "deploy"


class AuthError(FuncpubError):
    """No usable Azure credential, or Azure refused it."""

    exit_code = 7
    kind = "auth"


ERROR_CLASSES: Final[tuple[type[FuncpubError], ...]] = (
    ConfigError,
    ValidationError,
    BuildError,
    ContainerError,
    DeployError,
    AuthError,
)
