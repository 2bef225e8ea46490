"""Code shared by the functions."""


def greet(name: str) -> str:
    """The greeting the `hello` function returns."""
    return f"Hello, {name}!"
