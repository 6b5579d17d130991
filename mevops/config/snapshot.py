"""Validated models as plain objects that a later process can read back without pydantic.

A render reads the validated model (effective config, chain catalog, strategies) but needs
nothing pydantic does after validation, and importing pydantic and building the model classes
costs a cold CLI about a third of a full render. ``snapshot`` copies validated models into
plain objects with the same attributes, the same methods (the mixins below, which the models
inherit too: one implementation) and ``model_dump(mode="json")`` computed once, so they can be
pickled (``mevops.render.inputs`` caches them by the inputs' fingerprint).

This module must not import pydantic (or anything that does) at import time.
"""

from __future__ import annotations

import marshal
from typing import Any


class EffectiveConfigMethods:
    """Methods of ``EffectiveConfig`` (and of its snapshot). No annotations: pydantic would take them for fields."""

    def enabled_chains(self) -> dict[str, Any]:
        return {name: c for name, c in self.chains.items() if c.enabled}


class ChainMethods:
    """Methods of the catalog's ``Chain`` (and of its snapshot)."""

    def clients_for(self, network: str, selected: dict[str, str] | None = None) -> dict[str, str]:
        """role → client name that runs on ``network`` (``selected`` overrides the defaults)."""
        if network == "local":
            return {"devnet": self.defaults["devnet"]}
        chosen = {role: name for role, name in self.defaults.items() if role != "devnet"}
        chosen.update(selected or {})
        return {role: name for role, name in chosen.items() if network in self.clients[name].networks}

    def host_ports(self, network: str, selected: dict[str, str] | None = None) -> dict[tuple[str, str], int]:
        """(client, port name) → host port for ``network``."""
        offset = self.networks[network].port_offset
        return {
            (client, port_name): port + offset
            for client in self.clients_for(network, selected).values()
            for port_name, port in self.clients[client].ports.items()
        }


class Snapshot:
    """A validated model's fields as plain attributes (field names, not aliases), read-only by
    convention. ``model_dump`` supports what renders use: ``mode="json"``, with or without aliases."""

    _model: str
    _dumps: tuple[Any, Any]  # model_dump(mode="json"), and with by_alias=True

    def model_dump(self, *, mode: str = "python", by_alias: bool = False) -> Any:
        if mode != "json":
            raise NotImplementedError(f"{self._model} snapshot: model_dump(mode={mode!r}); only mode='json' is kept")
        return marshal.loads(marshal.dumps(self._dumps[bool(by_alias)]))  # a fresh copy, as pydantic returns

    def _fields(self) -> dict[str, Any]:
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Snapshot):
            return NotImplemented
        return self._model == other._model and self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # like a (non-frozen) pydantic model

    def __repr__(self) -> str:
        return f"{self._model}({', '.join(f'{k}={v!r}' for k, v in self._fields().items())})"


class EffectiveConfigSnapshot(EffectiveConfigMethods, Snapshot):
    pass


class ChainSnapshot(ChainMethods, Snapshot):
    pass


_SNAPSHOT_OF: tuple[tuple[type, type[Snapshot]], ...] = (
    (EffectiveConfigMethods, EffectiveConfigSnapshot),
    (ChainMethods, ChainSnapshot),
)


def snapshot(value: Any) -> Any:
    """``value`` with every pydantic model in it (in dicts, lists, tuples) copied as a ``Snapshot``."""
    from pydantic import BaseModel

    def copy(v: Any) -> Any:
        if isinstance(v, BaseModel):
            cls = next((snap for mixin, snap in _SNAPSHOT_OF if isinstance(v, mixin)), Snapshot)
            obj = cls.__new__(cls)
            for name in type(v).model_fields:
                setattr(obj, name, copy(getattr(v, name)))
            plain, aliased = v.model_dump(mode="json"), v.model_dump(mode="json", by_alias=True)
            obj._model = type(v).__name__
            obj._dumps = (plain, plain if aliased == plain else aliased)
            return obj
        if isinstance(v, dict):
            return {k: copy(x) for k, x in v.items()}
        if isinstance(v, list):
            return [copy(x) for x in v]
        if isinstance(v, tuple):
            return tuple(copy(x) for x in v)
        return v

    return copy(value)
