"""Streams: every message of a topic gets a sequence number; the last ``replay`` messages are
kept so a client that reconnects with ``?since=<seq>`` misses nothing still in the buffer.

Each client reads from its own bounded queue. Publishing never waits: when a client's queue is
full the client is marked slow and disconnected (close code 1013, "try again later") — a slow
dashboard never slows the engine, and it can resume from the last sequence number it saw.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass, field
from typing import Any

TOPICS = ("opportunities", "trades", "metrics", "alerts", "nodes")
SLOW_CLIENT_CLOSE = 1013  # RFC 6455 "Try Again Later"


@dataclass(eq=False)  # identity: each subscriber is one client
class Subscriber:
    topic: str
    queue: asyncio.Queue
    slow: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0
    sent_seq: int = 0     # the last sequence number delivered: where a reconnect resumes


class Topic:
    def __init__(self, name: str, replay: int) -> None:
        self.name = name
        self.seq = 0
        self.buffer: collections.deque[dict[str, Any]] = collections.deque(maxlen=replay)
        self.subscribers: set[Subscriber] = set()
        self.dropped_clients = 0

    def publish(self, data: Any) -> dict[str, Any]:
        self.seq += 1
        message = {"topic": self.name, "seq": self.seq, "at": time.time(), "data": data}
        self.buffer.append(message)
        for sub in list(self.subscribers):
            if sub.slow.is_set():
                continue
            try:
                sub.queue.put_nowait(message)
            except asyncio.QueueFull:
                sub.slow.set()   # the client's handler closes the socket; the engine moves on
                self.dropped_clients += 1
        return message

    def since(self, seq: int) -> tuple[list[dict[str, Any]], bool]:
        """Messages after ``seq`` still in the buffer, and whether some were already gone."""
        missed = bool(self.buffer) and self.buffer[0]["seq"] > seq + 1
        return [m for m in self.buffer if m["seq"] > seq], missed


class Hub:
    def __init__(self, *, replay: int = 1000, client_buffer: int = 256) -> None:
        self.topics = {name: Topic(name, replay) for name in TOPICS}
        self.client_buffer = client_buffer

    def publish(self, topic: str, data: Any) -> dict[str, Any]:
        return self.topics[topic].publish(data)

    def subscribe(self, topic: str, since: int | None = None) -> tuple[Subscriber, list[dict[str, Any]], bool]:
        """A new subscriber, the backlog it asked for (``since``) and whether part of it was lost.

        The backlog and the live queue do not overlap or leave a gap: both are taken at once,
        with no await in between."""
        t = self.topics[topic]
        sub = Subscriber(topic, asyncio.Queue(maxsize=self.client_buffer))
        backlog, missed = t.since(since) if since is not None else ([], False)
        t.subscribers.add(sub)
        return sub, backlog, missed

    def unsubscribe(self, sub: Subscriber) -> None:
        self.topics[sub.topic].subscribers.discard(sub)

    def stats(self) -> dict[str, dict[str, int]]:
        return {name: {"seq": t.seq, "clients": len(t.subscribers), "dropped_clients": t.dropped_clients}
                for name, t in self.topics.items()}
