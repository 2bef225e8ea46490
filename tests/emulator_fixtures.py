"""Pytest fixtures that run the local Azure emulator (filled in by the emulator work)."""
