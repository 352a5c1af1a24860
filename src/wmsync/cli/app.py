"""The ``wmsync`` command: global wiring and the one place where errors become exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer

try:  # typer 0.28 vendors click as typer._click
    from typer import _click as click
except ImportError:  # pragma: no cover - older typer uses click itself
    import click  # type: ignore[no-redef,import-not-found,unused-ignore]

from wmsync import __version__
from wmsync.cli import common

HELP = """Ship and cancel Walmart Marketplace orders from Adobe Commerce / Magento 2.4.

Exit codes: 0 done · 1 internal error · 2 refused before sending (nothing sent) · 3 configuration or
credentials · 4 rejected by Walmart or Commerce · 5 unavailable after retries · 6 sent but not confirmed
before the timeout · 7 batch finished with failures · 8 the two sides disagree · 130 interrupted.

Try it without credentials: wmsync orders list --store sandbox
"""

app = typer.Typer(
    name="wmsync",
    help=HELP,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"wmsync {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    version: Annotated[  # noqa: ARG001 - handled by its eager callback
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
    store: Annotated[
        str | None, typer.Option("--store", "-s", help="Store for the command (also accepted after it).")
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", help="Config file for the command (also accepted after it).")
    ] = None,
) -> None:
    """Ship and cancel Walmart Marketplace orders from Adobe Commerce / Magento 2.4."""
    # `wmsync -s us status 123` works like `wmsync status 123 -s us`: the command's own options read these
    # variables when they are not given themselves
    import os

    if store is not None:
        os.environ["WMSYNC_STORE"] = store
    if config is not None:
        os.environ["WMSYNC_CONFIG"] = config


#: each command's module: groups (a Typer app of their own, under the name) and single commands (``register``)
GROUPS = {"stores": "stores", "orders": "orders", "sandbox": "sandbox_cmd", "carriers": "carriers",
          "returns": "returns"}
COMMANDS = {"ship": "ship", "cancel": "cancel", "refund": "refund", "status": "status", "sync": "sync",
            "explain": "explain"}
#: the root's own options that take a value (``wmsync -s us status 123``)
_ROOT_VALUE_OPTIONS = ("--store", "-s", "--config")
_registered: set[str] = set()


def _register(names: Sequence[str] | None = None) -> None:
    """Register commands with ``app``: only ``names`` (the command being run: building a command's options
    costs time, and each command module imports its own dependencies) or, with ``None``, every command, in the
    order ``--help`` lists them. Registering a command twice does nothing."""
    import importlib

    from wmsync.cli import examples

    wanted = list(GROUPS) + list(COMMANDS) if names is None else list(names)
    # --help lists groups first, then single commands: keep that order however the registrations came
    for name in [n for n in (*GROUPS, *COMMANDS) if n in wanted and n not in _registered]:
        _registered.add(name)
        if name in GROUPS:
            module = importlib.import_module(f"wmsync.cli.{GROUPS[name]}")
            app.add_typer(module.app, name=name)
            examples.attach_commands(module.app.registered_commands, (name,))
        else:
            module = importlib.import_module(f"wmsync.cli.{COMMANDS[name]}")
            before = len(app.registered_commands)
            module.register(app)
            examples.attach_commands(app.registered_commands[before:], ())
    if names is None:
        app.registered_groups.sort(key=lambda g: list(GROUPS).index(g.name) if g.name in GROUPS else 99)
        app.registered_commands.sort(key=lambda c: list(COMMANDS).index(c.name) if c.name in COMMANDS else 99)


def command_of(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs, when it names exactly one known command and asks for nothing that lists
    them all (``--help`` before it, shell completion); else None."""
    import os

    if any(k.startswith("_WMSYNC_COMPLETE") for k in os.environ):
        return None
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in _ROOT_VALUE_OPTIONS:
            skip = True
            continue
        if token.startswith(("--store=", "--config=")) or (token.startswith("-s") and len(token) > 2
                                                           and not token.startswith("--")):
            continue
        if token.startswith("-"):
            return None  # --help, --version or an unknown option: the whole app answers
        return token if token in GROUPS or token in COMMANDS else None
    return None


def __getattr__(name: str) -> Any:
    if name == "full_app":
        _register()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _json_requested(argv: Sequence[str]) -> bool:
    return "--json" in argv or "--jsonl" in argv


def _report(exc: BaseException, argv: Sequence[str]) -> int:
    """Render an error on stderr (and as JSON on stdout in --json mode); return the exit code."""
    from wmsync.errors import ExitCode, WmsyncError
    from wmsync.secrets import redact

    json_mode = _json_requested(argv)
    verbose = "--verbose" in argv or "-v" in argv
    if isinstance(exc, WmsyncError):
        code = int(exc.exit_code)
        payload = exc.to_json()
        message, hint = exc.message, exc.hint
        if exc.correlation_id and "correlation id" not in message:
            message += f" (correlation id {exc.correlation_id})"
    elif isinstance(exc, click.exceptions.ClickException):
        code = ExitCode.REFUSED
        message = exc.format_message()
        hint = None
        if getattr(exc, "ctx", None) is not None:
            hint = f"see `{exc.ctx.command_path} --help`"  # type: ignore[attr-defined]
        payload = {"error": message, "exit_code": code}
    elif isinstance(exc, KeyboardInterrupt | typer.Abort):
        code = ExitCode.INTERRUPTED
        message, hint = "interrupted", "a re-run continues where this one stopped"
        payload = {"error": message, "exit_code": code}
    else:
        code = ExitCode.INTERNAL
        message = f"internal error: {type(exc).__name__}: {exc}"
        hint = "run again with --verbose for details, and report it with the trace"
        payload = {"error": message, "exit_code": code}
        if verbose:
            import traceback

            sys.stderr.write(redact("".join(traceback.format_exception(exc))))
    from wmsync.suggest import complete_document, complete_text

    sys.stderr.write(redact(f"error: {complete_text(message)}\n"))
    if hint:
        sys.stderr.write(redact(f"hint: {complete_text(hint)}\n"))
    if json_mode:
        sys.stdout.write(redact(json.dumps(complete_document(payload), ensure_ascii=False)) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this)."""
    args = list(sys.argv[1:] if argv is None else argv)
    from wmsync.suggest import set_store

    set_store(None)  # known once the command resolves its store
    try:
        command = command_of(args)
        _register([command] if command else None)
        result = app(args=args, prog_name="wmsync", standalone_mode=False)
        if result == 130:  # Typer turns Ctrl-C into exit code 130 before it reaches us
            return _report(KeyboardInterrupt(), args)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except BrokenPipeError:
        common.stdout_gone()  # the reader went away: stop quietly, like other Unix tools
        return 0
    except BaseException as exc:
        if isinstance(exc, SystemExit):
            return int(exc.code) if isinstance(exc.code, int) else 1
        return _report(exc, args)
    finally:
        for rt in list(common.CURRENT):
            rt.close()
    return int(result) if isinstance(result, int) else 0


def main() -> None:
    sys.exit(run())
