"""The local Azure emulator: Entra ID, ARM, Kudu/SCM and a Functions host, over HTTPS."""

from funcpub.emulator.faults import FaultRule, Faults
from funcpub.emulator.server import Emulator, IndexInfo, SiteInfo

__all__ = ["Emulator", "FaultRule", "Faults", "IndexInfo", "SiteInfo"]
