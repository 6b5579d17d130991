"""Simulation before send: in-process revm on a warm fork kept current from events, eth_call as the fallback.

``RevmSimulator`` (``revm.py``) has ``mempool.Simulator``'s interface; ``SimFeed`` (``feed.py``)
wraps the strategy so the simulator sees every Sync and head; ``layout.py`` finds the storage
slots the Syncs patch; ``fork.py`` builds warm forks without blocking the event loop.
Nothing here imports pyrevm at import time.
"""

from mevops.engine.sim.feed import SimFeed
from mevops.engine.sim.revm import RevmSimulator

__all__ = ["RevmSimulator", "SimFeed"]
