"""examples/chat.py's broadcaster: publish/subscribe and presence, in one process or over Redis.

Theory of operation
-------------------
A ``Broadcaster`` fans messages (str) out to subscribers by channel name,
and keeps the list of who is online. Two implementations share one
interface:

- ``MemoryBroadcaster`` (the default): everything lives in this process,
  so it is right for one worker only.
- ``RedisBroadcaster``: ``publish`` is a Redis ``PUBLISH``; each process
  holds ONE Redis pub/sub connection (pattern-subscribed to its channels)
  and a reader task hands what arrives to the local subscribers. So every
  worker, on every machine, sees every message, whichever worker a client
  is connected to.

Delivery to local subscribers never waits: each subscriber has a bounded
queue (``queue_size`` messages). A subscriber whose queue is full has
fallen behind: it is dropped on the spot (its queue is closed, and once it
has read what was queued its iteration raises ``SubscriberTooSlow``), so one
slow client can neither hold up the others nor make the process buffer
without limit. The chat closes such a client with 1013 ("try again later").

Presence, over Redis: every connected member is a field of one hash
(``{prefix}online``: ``"{worker}/{member}" -> name``), and every worker keeps
a key ``{prefix}alive:{worker}`` that expires after ``presence_ttl`` seconds
unless the worker's heartbeat renews it (it also rewrites the worker's own
fields, so a field removed by mistake comes back). ``online()`` ignores, and
deletes, the fields of a worker whose key has expired: a worker that died
without cleaning up drops out of the list within ``presence_ttl``. Each
join and leave publishes on the ``presence`` channel, so a feed of who is
online re-reads the list when it changes.

The broadcaster is used as an async context manager (``async with
broadcaster:``), in the app's lifespan: that connects to Redis and starts
the reader and heartbeat tasks, and leaving it stops them and disconnects.
Subscriptions are scoped too (``async with broadcaster.subscribe(channel)``),
so none outlives the code that reads it.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import anyio

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

__all__ = [
    "Broadcaster",
    "MemoryBroadcaster",
    "RedisBroadcaster",
    "SubscriberTooSlow",
    "Subscription",
    "create_broadcaster",
]

#: The channel on which joins and leaves are announced.
PRESENCE = "presence"
#: Cleanup after a client leaves gets this long, even while being cancelled.
CLEANUP_TIMEOUT = 2.0

logger = logging.getLogger("examples.broadcast")


class SubscriberTooSlow(Exception):
    """Raised by iterating a ``Subscription`` whose queue overflowed: it was dropped."""


class Subscription:
    """The messages of one channel for one subscriber, through a bounded queue.

    Iterate it with ``async for``; the iteration raises ``SubscriberTooSlow``
    once the subscriber has been dropped for falling behind.
    """

    def __init__(self, channel: str, queue_size: int) -> None:
        self.channel = channel
        self.overflowed = False
        self._sender, self._receiver = anyio.create_memory_object_stream[str](queue_size)

    def deliver(self, message: str) -> None:
        """Queue ``message`` without waiting; drop this subscriber if its queue is full."""
        try:
            self._sender.send_nowait(message)
        except anyio.WouldBlock:
            self.overflowed = True
            self._sender.close()  # the reader gets what is queued, then SubscriberTooSlow
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass  # dropped already, or closed by its reader

    def close(self) -> None:
        self._sender.close()
        self._receiver.close()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> str:
        try:
            return await self._receiver.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self.overflowed:
                raise SubscriberTooSlow(
                    f"the subscriber to {self.channel!r} fell behind and was dropped"
                ) from None
            raise StopAsyncIteration from None


class _Hub:
    """The subscriptions of this process, by channel."""

    def __init__(self, queue_size: int) -> None:
        if not isinstance(queue_size, int) or queue_size < 1:
            raise ValueError(f"queue_size must be a positive int, got {queue_size!r}")
        self.queue_size = queue_size
        self.channels: dict[str, set[Subscription]] = {}

    def deliver(self, channel: str, message: str) -> None:
        for subscription in list(self.channels.get(channel, ())):
            subscription.deliver(message)

    @contextlib.contextmanager
    def subscribe(self, channel: str) -> Iterator[Subscription]:
        subscription = Subscription(channel, self.queue_size)
        self.channels.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self.channels[channel]
            subscribers.discard(subscription)
            if not subscribers:
                del self.channels[channel]
            subscription.close()


class Broadcaster(abc.ABC):
    """Publish/subscribe by channel, and who is online; use it with ``async with``."""

    def __init__(self, *, queue_size: int = 100) -> None:
        self._hub = _Hub(queue_size)
        self._stack: contextlib.AsyncExitStack | None = None

    async def __aenter__(self) -> Broadcaster:
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(self._running())
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()

    def _running(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Connected, with the tasks the broadcaster needs, for the block (memory: nothing)."""
        return contextlib.nullcontext()

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions are open in this process (0 once every client has left)."""
        return sum(len(subscribers) for subscribers in self._hub.channels.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        """A ``Subscription`` to ``channel`` for the duration of the ``async with`` block."""
        with self._hub.subscribe(channel) as subscription:
            yield subscription

    @contextlib.asynccontextmanager
    async def member(self, name: str) -> AsyncIterator[str]:
        """``name`` is online for the duration of the block (yields the member's id)."""
        member = uuid.uuid4().hex
        await self.join(member, name)
        try:
            yield member
        finally:
            # Runs when the client left, and when the handler is cancelled too.
            with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_TIMEOUT):
                await self.leave(member)

    @abc.abstractmethod
    async def publish(self, channel: str, message: str) -> None:
        """Send ``message`` to every subscriber of ``channel``, in every process that shares it."""

    @abc.abstractmethod
    async def join(self, member: str, name: str) -> None:
        """Add ``member`` (a unique id) as ``name`` to who is online, and announce it."""

    @abc.abstractmethod
    async def leave(self, member: str) -> None:
        """Remove ``member`` from who is online, and announce it."""

    @abc.abstractmethod
    async def online(self) -> list[str]:
        """The names online, sorted, each once."""


class MemoryBroadcaster(Broadcaster):
    """Everything in this process: one worker only."""

    def __init__(self, *, queue_size: int = 100) -> None:
        super().__init__(queue_size=queue_size)
        self._members: dict[str, str] = {}

    async def publish(self, channel: str, message: str) -> None:
        self._hub.deliver(channel, message)

    async def join(self, member: str, name: str) -> None:
        self._members[member] = name
        self._hub.deliver(PRESENCE, "join")

    async def leave(self, member: str) -> None:
        if self._members.pop(member, None) is not None:
            self._hub.deliver(PRESENCE, "leave")

    async def online(self) -> list[str]:
        return sorted(set(self._members.values()))


class RedisBroadcaster(Broadcaster):
    """Publish/subscribe and presence through Redis: any number of workers and machines.

    ``url`` is a Redis URL (``redis://host:6379/0``); ``prefix`` starts every
    key and channel name, so several apps can share one Redis;
    ``presence_ttl`` is how long a worker that stopped renewing its key stays
    listed; ``retry_delay`` is the pause between attempts to get a lost Redis
    back (meanwhile ``publish`` raises redis-py's ``ConnectionError``).
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 100,
        prefix: str = "chat:",
        presence_ttl: float = 30.0,
        retry_delay: float = 1.0,
    ) -> None:
        super().__init__(queue_size=queue_size)
        if presence_ttl < 3:
            raise ValueError(f"presence_ttl must be at least 3 seconds, got {presence_ttl!r}")
        self.url = url
        self.prefix = prefix
        self.presence_ttl = presence_ttl
        self.retry_delay = retry_delay
        #: Unique per process start: fields of a dead worker are never reused.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._members: dict[str, str] = {}
        self._redis: Redis | None = None

    @property
    def _online_key(self) -> str:
        return f"{self.prefix}online"

    def _alive_key(self, worker: str) -> str:
        return f"{self.prefix}alive:{worker}"

    @property
    def _connected(self) -> Redis:
        if self._redis is None:
            raise RuntimeError("the broadcaster is not started: use it with 'async with'")
        return self._redis

    @contextlib.asynccontextmanager
    async def _running(self) -> AsyncIterator[None]:
        from redis.asyncio import Redis  # the dev extra brings redis; memory needs nothing

        async with Redis.from_url(self.url, decode_responses=True) as redis:
            await redis.set(self._alive_key(self.worker), 1, ex=round(self.presence_ttl))
            async with redis.pubsub() as pubsub:
                await pubsub.psubscribe(f"{self.prefix}*")
                # Wait for Redis to confirm, so no message published from now on is missed.
                with anyio.fail_after(5):
                    while await pubsub.get_message(timeout=1.0) is None:
                        pass
                self._redis = redis
                try:
                    async with anyio.create_task_group() as tasks:
                        tasks.start_soon(self._read, pubsub)
                        tasks.start_soon(self._heartbeat, redis)
                        try:
                            yield
                        finally:
                            tasks.cancel_scope.cancel()
                finally:
                    self._redis = None
                    with anyio.CancelScope(shield=True), anyio.move_on_after(CLEANUP_TIMEOUT):
                        await self._forget_worker(redis)

    async def _forget_worker(self, redis: Redis) -> None:
        """This worker's members leave, and its key goes (shutting down)."""
        members, self._members = self._members, {}
        async with redis.pipeline(transaction=True) as pipe:
            if members:
                pipe.hdel(self._online_key, *self._fields(members))
            pipe.delete(self._alive_key(self.worker))
            pipe.publish(self.prefix + PRESENCE, "leave")
            await pipe.execute()

    async def _read(self, pubsub: PubSub) -> None:
        """Hand every message of our channels to this process's subscribers.

        If Redis goes away, try again every ``retry_delay`` seconds: redis-py
        reconnects and subscribes again (what was published meanwhile is lost,
        as pub/sub always loses what nobody was subscribed to hear).
        """
        from redis.exceptions import RedisError

        start = len(self.prefix)
        while True:
            try:
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        self._hub.deliver(message["channel"][start:], message["data"])
            except RedisError as exc:
                logger.warning("Redis subscription lost (%s); retrying", exc)
                await anyio.sleep(self.retry_delay)

    async def _heartbeat(self, redis: Redis) -> None:
        """Keep this worker alive in Redis, and its fields equal to its members."""
        from redis.exceptions import RedisError

        mine = f"{self.worker}/"
        while True:
            await anyio.sleep(self.presence_ttl / 3)
            try:
                keys = cast("list[str]", await redis.hkeys(self._online_key))
                listed = {field for field in keys if field.startswith(mine)}
                fields = self._fields(self._members)
                async with redis.pipeline(transaction=True) as pipe:
                    pipe.set(self._alive_key(self.worker), 1, ex=round(self.presence_ttl))
                    if fields:  # a Redis that restarted empty gets them back too
                        pipe.hset(self._online_key, mapping=fields)
                    if stale := listed - fields.keys():  # a leave that raced a heartbeat
                        pipe.hdel(self._online_key, *stale)
                    await pipe.execute()
            except RedisError as exc:
                logger.warning("Redis presence heartbeat failed (%s); retrying", exc)

    def _fields(self, members: dict[str, str]) -> dict[Any, Any]:
        """``{"{worker}/{member}": name}``, the members' fields in the online hash."""
        return {f"{self.worker}/{member}": name for member, name in members.items()}

    async def publish(self, channel: str, message: str) -> None:
        await self._connected.publish(self.prefix + channel, message)

    async def join(self, member: str, name: str) -> None:
        self._members[member] = name
        async with self._connected.pipeline(transaction=True) as pipe:
            pipe.hset(self._online_key, mapping=self._fields({member: name}))
            pipe.set(self._alive_key(self.worker), 1, ex=round(self.presence_ttl))
            pipe.publish(self.prefix + PRESENCE, "join")
            await pipe.execute()

    async def leave(self, member: str) -> None:
        name = self._members.pop(member, None)
        if name is None or self._redis is None:  # shutting down removed it already
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._online_key, *self._fields({member: name}))
            pipe.publish(self.prefix + PRESENCE, "leave")
            await pipe.execute()

    async def online(self) -> list[str]:
        redis = self._connected
        fields = cast("dict[str, str]", await redis.hgetall(self._online_key))
        workers = sorted({field.partition("/")[0] for field in fields})
        async with redis.pipeline(transaction=False) as pipe:
            for worker in workers:
                pipe.exists(self._alive_key(worker))
            alive = dict(zip(workers, await pipe.execute(), strict=True))
        dead = {field for field in fields if not alive[field.partition("/")[0]]}
        if dead:  # a worker that died without cleaning up
            await redis.hdel(self._online_key, *dead)
        return sorted({name for field, name in fields.items() if field not in dead})


def create_broadcaster(redis_url: str | None = None, *, queue_size: int = 100) -> Broadcaster:
    """A ``RedisBroadcaster`` for ``redis_url``, or a ``MemoryBroadcaster`` without one."""
    if redis_url:
        return RedisBroadcaster(redis_url, queue_size=queue_size)
    return MemoryBroadcaster(queue_size=queue_size)
