"""A cache of subscribers, domains and domain settings for the registrar and the call core.

Every REGISTER and every INVITE needs the subscriber record (password, qop mode, settings)
and a few domain properties; reading them from storage each time made the registrar
storage-bound. `Directory` keeps what it read, under one staleness rule:

* a change made through CoCon in this process is seen at once: the composition root
  subscribes `on_change` to the console's `ChangeHub`, and a `Change` drops the numbers it
  names (kinds ``subscriber``, ``alias``, ``ss``, ``registration``) or everything cached
  about its domain (any other kind; a change without a domain drops everything);
* a change made by another process writing the same database (the local `ssw cocon` CLI,
  the second server of a cluster) is seen at most `max_age` seconds later (1 s by
  default): an entry read from storage at time t is used until t + `max_age`, then read
  again. A read that was in flight when a change arrived is answered but not kept.

Negative answers (no such number, no such domain) are cached under the same rule, so a
flood of REGISTERs or INVITEs for unknown numbers costs one read per number and second
instead of one per request; the cache holds at most `max_entries` entries (expired ones
are swept first, then the whole cache is dropped). `refresh(now)`, run every `max_age / 2`,
reads the entries in use again in large batches before they expire, so that a busy
subscriber costs no single read at all. Misses of one domain that arrive while
a read of it is in flight are gathered into the next query, the way `Locations` gathers
writes: one query per storage round trip, however many REGISTERs missed meanwhile.
Misses of a domain property section wait for the read of it in flight, if any.
Time is passed in (`now`, epoch seconds).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Protocol, TypeVar

from ssw.storage import NotFound, Storage
from ssw.storage.records import PropertyValue, Subscriber

__all__ = ["DEFAULT_MAX_AGE", "ChangeNotice", "Directory"]

_K = TypeVar("_K")
_V = TypeVar("_V")

#: how long an entry read from storage is used before it is read again (seconds)
DEFAULT_MAX_AGE = 1.0

#: numbers read again in one query by `refresh`
_REFRESH_CHUNK = 500

#: change kinds whose `keys` are subscriber numbers of the change's domain
_NUMBER_KINDS = frozenset({"subscriber", "alias", "ss", "registration"})


class ChangeNotice(Protocol):
    """What `on_change` reads of a `ssw.cocon.services.Change`."""

    @property
    def kind(self) -> str: ...

    @property
    def domain(self) -> str | None: ...

    @property
    def keys(self) -> tuple[str, ...]: ...


class _Read:
    """Numbers of one domain read together; `done` holds what was found."""

    __slots__ = ("done", "numbers")

    def __init__(self, done: asyncio.Future[dict[str, Subscriber] | None]) -> None:
        self.numbers: set[str] = set()
        self.done = done


class Directory:
    """Subscribers (`subscriber`), domains (`domain_exists`) and domain property sections
    (`section`) as read from `storage`, cached as the module docstring says."""

    def __init__(self, storage: Storage, *, max_age: float = DEFAULT_MAX_AGE,
                 max_entries: int = 200_000) -> None:
        if max_age < 0 or max_entries < 1:
            raise ValueError("max_age must be >= 0 and max_entries >= 1")
        self.storage = storage
        self.max_age = max_age
        self.max_entries = max_entries
        # key -> (valid until, value)
        self._subscribers: dict[tuple[str, str], tuple[float, Subscriber | None]] = {}
        self._domains: dict[str, tuple[float, bool]] = {}
        self._sections: dict[tuple[str, str], tuple[float, Mapping[str, PropertyValue]]] = {}
        self._reads: dict[str, _Read] = {}  # gathering misses, by domain
        self._in_flight: dict[str, asyncio.Future[dict[str, Subscriber] | None]] = {}
        self._generation = 0  # bumped by every change: reads begun before it are not kept
        self._used: set[tuple[str, str]] = set()  # subscribers served from memory since read
        self._used_sections: set[tuple[str, str]] = set()
        self._section_reads: dict[tuple[str, str], asyncio.Future[Mapping[str, PropertyValue]]] = {}
        self.storage_reads = 0

    # -- lookups -------------------------------------------------------------------------

    async def subscriber(self, domain: str, number: str, now: float) -> Subscriber | None:
        """The subscriber `number@domain`, or None when there is none (or no such domain)."""
        key = (domain, number)
        cached = self._subscribers.get(key)
        if cached is not None and cached[0] > now:
            if cached[1] is not None:
                self._used.add(key)
            return cached[1]
        generation = self._generation
        found = await self._read_numbers(domain, number)
        if found is None:
            self._keep_domain(domain, False, now, generation)
            value = None
        else:
            self._keep_domain(domain, True, now, generation)
            value = found.get(number)
        if generation == self._generation:
            value = self._same_if_unchanged(key, value)
            self._make_room(self._subscribers, now)
            self._subscribers[key] = (now + self.max_age, value)
        return value

    def _same_if_unchanged(self, key: tuple[str, str],
                           read: Subscriber | None) -> Subscriber | None:
        """The record already cached when the one read again equals it: users may keep
        what they work out of a record (the registrar its expiry limits) by identity."""
        cached = self._subscribers.get(key)
        if cached is not None and cached[1] is not None and cached[1] == read:
            return cached[1]
        return read

    async def domain_exists(self, domain: str, now: float) -> bool:
        cached = self._domains.get(domain)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        self.storage_reads += 1
        exists = await self.storage.domains.exists(domain)
        self._keep_domain(domain, exists, now, generation)
        return exists

    async def section(self, domain: str, section: str, now: float) -> Mapping[str, PropertyValue]:
        """`kv.effective(domain, section)`: the domain's property section with defaults."""
        key = (domain, section)
        cached = self._sections.get(key)
        if cached is not None and cached[0] > now:
            self._used_sections.add(key)
            return cached[1]
        pending = self._section_reads.get(key)
        if pending is not None:  # one read per section however many requests missed it
            return await asyncio.shield(pending)
        done: asyncio.Future[Mapping[str, PropertyValue]] = (
            asyncio.get_running_loop().create_future())
        self._section_reads[key] = done
        generation = self._generation
        try:
            self.storage_reads += 1
            value = await self.storage.kv.effective(domain, section)
        except BaseException as exc:
            done.set_exception(exc if isinstance(exc, Exception) else RuntimeError("cancelled"))
            done.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        else:
            done.set_result(value)
        finally:
            del self._section_reads[key]
        if generation == self._generation:
            self._make_room(self._sections, now)
            self._sections[key] = (now + self.max_age, value)
        return value

    async def _read_numbers(self, domain: str, number: str) -> dict[str, Subscriber] | None:
        """Subscribers of `domain` among the numbers missed together; None when the domain
        does not exist. Misses that come while a read of the domain is in flight gather
        in the next read, which its first miss makes once the one in flight is over."""
        read = self._reads.get(domain)
        if read is not None:
            read.numbers.add(number)
            return await asyncio.shield(read.done)
        read = self._reads[domain] = _Read(asyncio.get_running_loop().create_future())
        read.numbers.add(number)
        try:
            previous = self._in_flight.get(domain)
            if previous is not None:
                await asyncio.wait([previous])
            else:
                await asyncio.sleep(0)  # the misses of this pass of the loop join the read
            del self._reads[domain]
            self._in_flight[domain] = read.done
            self.storage_reads += 1
            try:
                found = await self.storage.subscribers.list(domain, numbers=read.numbers)
            except NotFound:
                read.done.set_result(None)
            else:
                read.done.set_result({s.number: s for s in found})
        except BaseException as exc:
            if self._reads.get(domain) is read:
                del self._reads[domain]
            if not read.done.done():
                read.done.set_exception(
                    exc if isinstance(exc, Exception) else RuntimeError("read cancelled"))
            raise
        finally:
            if self._in_flight.get(domain) is read.done:
                del self._in_flight[domain]
        return read.done.result()

    async def refresh(self, now: float) -> int:
        """Read again, in a few large queries, the entries in use that would expire within
        half of `max_age`, so that subscribers who register or call often are never read
        one by one; returns how many were read. The composition root calls it every
        `max_age / 2` seconds. The staleness rule is unchanged: a refreshed entry is good
        until `now + max_age`, `now` being when its read began."""
        horizon = now + self.max_age / 2
        due = [k for k in self._used
               if (entry := self._subscribers.get(k)) is not None and entry[0] <= horizon]
        self._used.difference_update(due)
        by_domain: dict[str, list[str]] = {}
        for domain, number in due:
            by_domain.setdefault(domain, []).append(number)
        read = 0
        for domain, numbers in by_domain.items():
            for start in range(0, len(numbers), _REFRESH_CHUNK):
                chunk = numbers[start:start + _REFRESH_CHUNK]
                generation = self._generation
                self.storage_reads += 1
                try:
                    found = {s.number: s for s in
                             await self.storage.subscribers.list(domain, numbers=chunk)}
                except NotFound:
                    continue  # the domain is gone: the next lookup reads it and says so
                read += len(chunk)
                if generation == self._generation:
                    for number in chunk:
                        key = (domain, number)
                        self._subscribers[key] = (now + self.max_age,
                                                  self._same_if_unchanged(key, found.get(number)))
        sections = [k for k in self._used_sections
                    if (kept := self._sections.get(k)) is not None and kept[0] <= horizon]
        self._used_sections.difference_update(sections)
        for domain, section in sections:
            generation = self._generation
            self.storage_reads += 1
            try:
                value = await self.storage.kv.effective(domain, section)
            except NotFound:
                continue
            read += 1
            if generation == self._generation:
                self._sections[(domain, section)] = (now + self.max_age, value)
        return read

    def _keep_domain(self, domain: str, exists: bool, now: float, generation: int) -> None:
        if generation == self._generation:
            self._make_room(self._domains, now)
            self._domains[domain] = (now + self.max_age, exists)

    def _make_room(self, entries: dict[_K, tuple[float, _V]], now: float) -> None:
        if len(entries) < self.max_entries:
            return
        for key in [k for k, (until, _) in entries.items() if until <= now]:
            del entries[key]
        if len(entries) >= self.max_entries:
            entries.clear()

    def __len__(self) -> int:
        return len(self._subscribers) + len(self._domains) + len(self._sections)

    # -- invalidation --------------------------------------------------------------------

    def on_change(self, change: ChangeNotice) -> None:
        """A listener for `ChangeHub`: drop what `change` may have made wrong."""
        self._generation += 1
        domain = change.domain
        if domain is None:
            self.clear()
            return
        if change.kind in _NUMBER_KINDS and change.keys:
            for key in change.keys:
                # keys are numbers, or addresses `N@D` (alias commands)
                self._subscribers.pop((domain, key.partition("@")[0]), None)
            return
        self._domains.pop(domain, None)
        for number_key in [k for k in self._subscribers if k[0] == domain]:
            del self._subscribers[number_key]
        for section_key in [k for k in self._sections if k[0] == domain]:
            del self._sections[section_key]

    def clear(self) -> None:
        self._generation += 1
        self._used.clear()
        self._used_sections.clear()
        self._subscribers.clear()
        self._domains.clear()
        self._sections.clear()
