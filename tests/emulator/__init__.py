"""Tests against the local Azure emulator with the real Azure clients."""
