"""The console's commands, one module per family, and the full registry."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..registry import Registry
from . import (
    admin,
    alias,
    cdr,
    copy,
    domain,
    findme,
    media_profiles,
    network,
    properties,
    routing,
    sip_user,
    ss,
    system,
    trunks,
)

__all__ = ["FAMILIES", "build_registry"]

#: every family of commands of this package, in reference order
FAMILIES: tuple[Callable[[Registry], None], ...] = (
    domain.register,
    copy.register,
    sip_user.register,
    properties.register,
    alias.register,
    ss.register,
    findme.register,
    media_profiles.register,
    trunks.register,
    network.register,
    routing.register,
    cdr.register,
    admin.register,
    system.register,
)


def build_registry(extra: Iterable[Callable[[Registry], None]] = ()) -> Registry:
    """The registry with every command of the console plus `extra` families (e.g. licence)."""
    registry = Registry()
    for register in (*FAMILIES, *extra):
        register(registry)
    return registry
