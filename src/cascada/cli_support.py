"""What every `cascada` sub-command shares: consoles and the bad-input wrapper."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import typer
from rich.console import Console

from cascada.errors import CascadaInputError, MissingExtraError

#: results on stdout (100 columns when piped, so tables stay readable in logs)
console = Console(width=None if sys.stdout.isatty() else 100)
#: progress and errors on stderr
err_console = Console(stderr=True)


def clear_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Bad input (or a missing extra): one clear line on stderr and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (CascadaInputError, MissingExtraError) as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper
