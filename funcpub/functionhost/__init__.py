"""The emulated Functions host: index and invoke an app with a real Python worker process.

The smoke import (`funcpub.build.smoke`) and the emulator's app hosts both run apps through it.
It imports only the standard library and `packaging`, so a build does not load the emulator.
"""

from funcpub.functionhost.host import (
    BASIC_ENVIRONMENT,
    NO_JOB_FUNCTIONS,
    FunctionHost,
    HttpCall,
    HttpResult,
    IndexResult,
)
from funcpub.functionhost.metadata import IndexedFunction
from funcpub.functionhost.workerdir import prepare_worker_dir

__all__ = [
    "BASIC_ENVIRONMENT",
    "NO_JOB_FUNCTIONS",
    "FunctionHost",
    "HttpCall",
    "HttpResult",
    "IndexResult",
    "IndexedFunction",
    "prepare_worker_dir",
]
