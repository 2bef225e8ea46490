"""funcpub: package and publish Azure Functions Python apps."""

__version__ = "0.1.0"
