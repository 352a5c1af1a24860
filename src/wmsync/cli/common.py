"""Options every command accepts, and the runtime built from them: the only place that builds clients
from config. Heavy imports (httpx, keyring) happen here lazily, never at ``--help``."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Concatenate, NoReturn, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from wmsync.commerce.client import CommerceClient
    from wmsync.config import Config, StoreConfig
    from wmsync.errors import UnconfirmedError
    from wmsync.http import Tracer
    from wmsync.journal import Journal
    from wmsync.render import Output
    from wmsync.secrets import SecretResolver
    from wmsync.walmart.client import WalmartClient
    from wmsync.workflows.context import Context, Settings

P = ParamSpec("P")
R = TypeVar("R")

StoreOpt = Annotated[
    str | None,
    typer.Option("--store", "-s", envvar="WMSYNC_STORE", help="Store connection to use ('sandbox' = built-in)."),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", envvar="WMSYNC_CONFIG", help="Config file (default: user config dir).",
                 dir_okay=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout; messages on stderr.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Trace HTTP on stderr (secrets masked).")]
TraceOpt = Annotated[
    Path | None,
    typer.Option("--trace-file", help="Write every HTTP exchange of the run as JSON (masked) for support.",
                 dir_okay=False),
]

def finite_seconds(value: float | None) -> float | None:
    """A duration option: a number of seconds, never ``nan`` or ``inf`` (which compare false with everything and
    would wait forever or fail deep inside)."""
    import math

    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value!r} is not a number of seconds")
    return value


ConfirmTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        help="Seconds to wait for Walmart's confirmation (default: the store's confirm timeout, 300).",
        min=0,
        callback=finite_seconds,
    ),
]
LockTimeoutOpt = Annotated[
    float,
    typer.Option(
        "--lock-timeout",
        help="Seconds to wait for another run working on the same order.",
        min=0,
        callback=finite_seconds,
    ),
]


#: The options every command takes, declared here once: :func:`global_options` adds them to a command.
GLOBAL_OPTIONS: tuple[tuple[str, Any, Any], ...] = (
    ("store", StoreOpt, None),
    ("config", ConfigOpt, None),
    ("json", JsonOpt, False),
    ("verbose", VerboseOpt, False),
    ("trace_file", TraceOpt, None),
)


def global_options(fn: Callable[Concatenate[Runtime, P], R]) -> Callable[..., R]:
    """A command that takes the :class:`Runtime` as its first argument gets ``--store``, ``--config``,
    ``--json``, ``--verbose`` and ``--trace-file`` as options of its own (after its other options, in that
    order), and the runtime built from them."""
    sig = inspect.signature(fn, eval_str=True)
    own = list(sig.parameters.values())[1:]
    extra = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
        for name, annotation, default in GLOBAL_OPTIONS
    ]

    @functools.wraps(fn)
    def command(*args: Any, **kwargs: Any) -> R:
        rt = Runtime.create(*(kwargs.pop(name) for name, _a, _d in GLOBAL_OPTIONS))
        return fn(rt, *args, **kwargs)

    params = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) if p.kind is p.POSITIONAL_OR_KEYWORD else p for p in own]
    command.__signature__ = sig.replace(parameters=[*params, *extra])  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in [*params, *extra]} | {"return": sig.return_annotation}
    del command.__wrapped__  # Typer reads the signature above, not the wrapped function's
    return command


SANDBOX = "sandbox"

# The runtime of the command being run, so the error handler in app.py knows the output mode.
CURRENT: list[Runtime] = []


@dataclass
class Store:
    name: str
    config: StoreConfig
    is_sandbox: bool
    store_count: int


@dataclass
class Runtime:
    store_option: str | None = None
    config_option: Path | None = None
    json_mode: bool = False
    verbose: bool = False
    trace_file: Path | None = None
    _config: Config | None = None
    _store: Store | None = None
    _out: Output | None = None
    _tracers: list[Tracer] | None = None
    _closers: list[Any] = field(default_factory=list)
    _commerce: CommerceClient | None = None
    _walmart: WalmartClient | None = None
    _journal: Journal | None = None
    _sandbox: Any = None

    @classmethod
    def create(
        cls,
        store: str | None = None,
        config: Path | None = None,
        json_mode: bool = False,
        verbose: bool = False,
        trace_file: Path | None = None,
    ) -> Runtime:
        rt = cls(store, config, json_mode, verbose, trace_file)
        CURRENT.append(rt)
        return rt

    # ------------------------------------------------------------ basics

    @property
    def out(self) -> Output:
        if self._out is None:
            from wmsync.render import Output

            self._out = Output(json_mode=self.json_mode, verbose=self.verbose)
        return self._out

    @property
    def config_path(self) -> Path:
        if self.config_option is not None:
            return self.config_option.expanduser()
        from wmsync.paths import config_path

        return config_path()

    def config(self) -> Config:
        if self._config is None:
            from wmsync import config as cfg

            self._config = cfg.load(self.config_path)
        return self._config

    def store(self) -> Store:
        """The store named by --store / WMSYNC_STORE, else default_store, else the only one configured.
        The built-in sandbox is used only when named."""
        if self._store is not None:
            return self._store
        from wmsync.errors import ConfigError

        name = self.store_option
        if name == SANDBOX:
            self._store = sandbox_store()
            from wmsync.suggest import set_store

            set_store(SANDBOX)
            return self._store
        conf = self.config()
        if not name:
            name = conf.default_store
            if name == SANDBOX:
                self._store = sandbox_store()
                from wmsync.suggest import set_store

                set_store(SANDBOX)
                return self._store
        if not name:
            if len(conf.stores) == 1:
                name = next(iter(conf.stores))
            elif not conf.stores:
                raise ConfigError(
                    f"no store is configured (config file: {self.config_path}{self._missing_note()})",
                    hint="add one with `wmsync stores add NAME ...`, or try the built-in sandbox: --store sandbox",
                )
            else:
                raise ConfigError(
                    "several stores are configured and none is chosen: " + ", ".join(sorted(conf.stores)),
                    hint="pass --store NAME, set WMSYNC_STORE, or set default_store in the config file",
                )
        if name not in conf.stores:
            known = ", ".join(sorted(conf.stores)) or "none"
            raise ConfigError(
                f"no store named {name!r} in {self.config_path} (configured: {known}){self._missing_note()}",
                hint="`wmsync stores list` shows them; the built-in sandbox is --store sandbox",
            )
        self._store = Store(name, conf.stores[name], False, len(conf.stores))
        from wmsync.suggest import set_store

        set_store(name)
        return self._store

    def _missing_note(self) -> str:
        return "" if self.config_path.exists() else "; that file does not exist"

    def secrets(self) -> SecretResolver:
        from wmsync.secrets import SecretResolver

        st = self.store()
        if st.is_sandbox:
            from wmsync.sandbox import CREDENTIALS

            return SecretResolver(st.name, store_count=1, fixed=CREDENTIALS)
        return SecretResolver(st.name, store_count=st.store_count)

    # ------------------------------------------------------------ clients

    def tracers(self) -> list[Tracer]:
        if self._tracers is None:
            tracers: list[Tracer] = []
            if self.verbose:
                from wmsync.trace import VerboseTracer

                tracers.append(VerboseTracer())
            if self.trace_file is not None:
                from wmsync.trace import TraceFile

                tracers.append(TraceFile(self.trace_file, ["wmsync", *sys.argv[1:]]))
            self._tracers = tracers
        return self._tracers

    def sandbox(self) -> Any:
        if self._sandbox is None:
            from wmsync.sandbox import Sandbox, default_db_path

            self._sandbox = Sandbox(default_db_path())
            self._closers.append(self._sandbox)
        return self._sandbox

    #: The seam for tests and embedders: an httpx transport that every client of every runtime uses instead
    #: of the network (or of the sandbox's in-process transport). ``None``: the normal choice below.
    transport_override: ClassVar[Any] = None

    def transport(self) -> Any:
        """What carries this run's requests: the override (an httpx transport) if set, the sandbox's
        in-process wire for ``--store sandbox`` (no httpx loaded), else ``None`` (the network, over httpx)."""
        if Runtime.transport_override is not None:
            return Runtime.transport_override
        return self.sandbox().wire() if self.store().is_sandbox else None

    def timeouts(self) -> Any:
        return self.store().config.timeouts.with_env()

    def settings(self, *, timeout: float | None = None, no_wait: bool = False) -> Settings:
        """The workflows' settings: the store's timeouts with the environment applied (once, here);
        ``timeout``: --timeout, ``no_wait``: --no-wait."""
        from wmsync.workflows.context import Settings

        return Settings.from_timeouts(self.timeouts(), timeout=timeout, wait=not no_wait)

    def context(
        self,
        settings: Settings,
        *,
        progress: Callable[[str], None] | None = None,
        note: Callable[[str], None] | None = None,
    ) -> Context:
        """What a workflow runs with: this store's clients, journal and clock, its config and ``settings``."""
        from wmsync.clock import SYSTEM
        from wmsync.workflows.context import Context

        st = self.store()
        ctx = Context(st.name, st.config, self.commerce(), self.walmart(), self.journal(), SYSTEM, settings)
        # without a spinner, long waits are still said on stderr
        return ctx.with_(progress=progress if progress is not None else self.out.announce, note=note)

    def http_settings(self) -> Any:
        from wmsync.http import HttpSettings, RetryPolicy

        t = self.timeouts()
        return HttpSettings(
            connect_timeout=t.connect,
            read_timeout=t.read,
            policy=RetryPolicy(max_attempts=t.max_attempts, backoff_base=t.backoff_base,
                               backoff_max=t.backoff_max, retry_after_max=t.retry_after_max),
        )

    def commerce(self) -> CommerceClient:
        if self._commerce is None:
            from wmsync.commerce.client import CommerceClient, bearer_signer, oauth1_signer

            st = self.store()
            sec = self.secrets()
            if st.config.commerce_auth == "bearer":
                signer = bearer_signer(sec.require("COMMERCE_TOKEN"))
            else:
                signer = oauth1_signer(
                    sec.require("COMMERCE_CONSUMER_KEY"),
                    sec.require("COMMERCE_CONSUMER_SECRET"),
                    sec.require("COMMERCE_ACCESS_TOKEN"),
                    sec.require("COMMERCE_ACCESS_TOKEN_SECRET"),
                )
            self._commerce = CommerceClient(
                base_url=st.config.commerce_url,
                store_code=st.config.commerce_store_code,
                signer=signer,
                settings=self.http_settings(),
                transport=self.transport(),
                rate_per_min=st.config.rate_limits.commerce_per_min,
                tracers=self.tracers(),
                msi_cache=self._msi_cache(st.name),
            )
            self._commerce.http.on_retry.append(self.out.retried)
            self._closers.append(self._commerce)
        return self._commerce

    def _msi_cache(self, store: str) -> Path:
        import re as _re

        from wmsync.paths import cache_dir

        return cache_dir() / "inventory" / (_re.sub(r"[^A-Za-z0-9_.-]", "_", store) + ".json")

    def walmart(self) -> WalmartClient:
        if self._walmart is None:
            from wmsync.paths import cache_dir
            from wmsync.walmart.client import WalmartClient

            st = self.store()
            sec = self.secrets()
            rl = st.config.rate_limits
            self._walmart = WalmartClient(
                base_url=st.config.walmart_url,
                client_id=st.config.walmart_client_id,
                client_secret=sec.require("WALMART_CLIENT_SECRET"),
                service_name=st.config.walmart_service_name,
                channel_type=st.config.walmart_channel_type,
                settings=self.http_settings(),
                transport=self.transport(),
                rate_limits={
                    "read": rl.walmart_read_per_min,
                    "ship": rl.walmart_ship_per_min,
                    "cancel": rl.walmart_cancel_per_min,
                    "acknowledge": rl.walmart_acknowledge_per_min,
                    "token": rl.walmart_token_per_min,
                },
                token_cache_dir=cache_dir() / "tokens",
                tracers=self.tracers(),
                sku_map=st.config.skus,
            )
            self._walmart.http.on_retry.append(self.out.retried)
            self._closers.append(self._walmart)
        return self._walmart

    def journal(self) -> Journal:
        if self._journal is None:
            from wmsync.errors import WmsyncError
            from wmsync.journal import Journal, default_journal_path

            try:
                state = self.store().config.state
            except WmsyncError:
                state = None
            if state:
                from wmsync.journal_mysql import MySQLJournal, StateURL

                password = self.secrets().lookup("STATE_PASSWORD").value
                self._journal = MySQLJournal(StateURL.parse(state), password)
            else:
                self._journal = Journal(default_journal_path())
            self._closers.append(self._journal)
        return self._journal

    def correlation_ids(self) -> list[str]:
        return list(self._walmart.correlation_ids) if self._walmart is not None else []

    def close(self) -> None:
        while self._closers:
            obj = self._closers.pop()
            try:
                obj.close()
            except Exception:
                continue
        if self in CURRENT:
            CURRENT.remove(self)


def stdout_gone() -> None:
    """The reader of stdout went away (`wmsync orders list | head`): what is still written goes to /dev/null, so
    the flush at exit does not fail again."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def streamed(rt: Runtime, write: Callable[[], R]) -> R:
    """Print a stream of rows with ``write``. The reader going away stops the command quietly with exit 0, like
    other Unix tools; an error met mid-stream goes to stderr with its exit code, and what was printed stays valid
    (a closed JSON array)."""
    from wmsync.errors import WmsyncError

    try:
        return write()
    except BrokenPipeError:
        stdout_gone()
        raise typer.Exit(0) from None
    except WmsyncError as exc:
        rt.out.error(exc.message, exc.hint)
        raise typer.Exit(int(exc.exit_code)) from exc


def emit_unconfirmed(rt: Runtime, exc: UnconfirmedError, render: Callable[[Console, dict[str, Any]], None]) -> NoReturn:
    """Sent but not confirmed in time (exit 6): print the result document (``result: pending``) as on success,
    the message on stderr, then exit 6. Without an outcome the error goes to the usual handler."""
    if exc.outcome is None:
        raise exc
    doc = exc.outcome.to_json()
    rt.out.emit(doc, lambda console: render(console, doc))
    rt.out.error(exc.message, exc.hint)
    raise typer.Exit(int(exc.exit_code)) from exc


def sandbox_store() -> Store:
    from wmsync.config import StoreConfig
    from wmsync.sandbox.constants import BASE_URL, CREDENTIALS, SKU_MAP, STORE_CODE

    conf = StoreConfig(
        commerce_url=BASE_URL,
        commerce_store_code=STORE_CODE,
        commerce_auth="oauth1",
        walmart_url=BASE_URL,
        walmart_client_id=CREDENTIALS["WALMART_CLIENT_ID"],
        skus=dict(SKU_MAP),
    )
    return Store(SANDBOX, conf, True, 1)
