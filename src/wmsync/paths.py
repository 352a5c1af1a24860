"""Where wmsync keeps its files. Every location can be overridden by an environment variable,
so tests, CI and cron jobs can point them anywhere."""

from __future__ import annotations

import os
from pathlib import Path

APP = "wmsync"


def config_path() -> Path:
    """The config file: $WMSYNC_CONFIG, else <user config dir>/wmsync/config.toml."""
    env = os.environ.get("WMSYNC_CONFIG")
    if env:
        return Path(env).expanduser()
    return config_dir() / "config.toml"


def config_dir() -> Path:
    env = os.environ.get("WMSYNC_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP))


def data_dir() -> Path:
    """Journal and sandbox state: $WMSYNC_DATA_DIR, else the user data dir."""
    env = os.environ.get("WMSYNC_DATA_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP))


def cache_dir() -> Path:
    """Token cache: $WMSYNC_CACHE_DIR, else the user cache dir."""
    env = os.environ.get("WMSYNC_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir(APP))


