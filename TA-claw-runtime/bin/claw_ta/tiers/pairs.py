"""What the aggregation keeps per (image digest, host): mergeable, independent of event count.

:class:`PairState` holds a pair's count, first/last time, its active hours (a
bit mask, or a set when the span is too wide) and its label sets; label sets
are frozensets shared between pairs (:func:`union`), so a million pairs with
a handful of distinct label sets hold a handful of sets.
"""

MAX_VALUES = 50             # distinct tier labels / namespaces kept per pair (values() of stats)
MAX_MASK_HOURS = 24 * 400   # beyond this span (wild clocks) a pair's hours fall back to a set


_INTERNED = {}  # frozensets of labels, shared by every pair that has the same ones


def union(current, labels):
    """``current`` (a frozenset or None) plus ``labels``, at most MAX_VALUES, as a shared frozenset."""
    if current is not None and all(label in current for label in labels):
        return current
    merged = set(current or ())
    for label in labels:
        if len(merged) < MAX_VALUES or label in merged:
            merged.add(label)
    if not merged:
        return current
    frozen = frozenset(merged)
    if len(_INTERNED) < 100000:
        return _INTERNED.setdefault(frozen, frozen)
    return _INTERNED.get(frozen, frozen)


class PairState(object):
    """What is kept per (digest, host): mergeable, independent of event count."""

    __slots__ = ("count", "first", "last", "base", "mask", "hour_set", "extra_hours", "tiers", "namespaces")

    def __init__(self):
        self.count = 0
        self.first = None
        self.last = None
        self.base = None        # hour index of bit 0 of mask
        self.mask = 0           # bit i set: events in hour base + i
        self.hour_set = None    # replaces base/mask when the span is too wide
        self.extra_hours = 0    # distinct hours already counted by pre-aggregated rows
        self.tiers = None       # frozenset of pod tier labels (shared, see union), or None
        self.namespaces = None  # frozenset of Kubernetes namespaces, or None

    def add_time(self, first, last):
        self.first = first if self.first is None else min(self.first, first)
        self.last = last if self.last is None else max(self.last, last)

    def add_hour(self, hour):
        if self.hour_set is not None:
            self.hour_set.add(hour)
            return
        if self.base is None:
            self.base, self.mask = hour, 1
            return
        offset = hour - self.base
        if offset >= 0:
            if offset < MAX_MASK_HOURS:
                self.mask |= 1 << offset
                return
        elif self.mask.bit_length() - offset < MAX_MASK_HOURS:
            self.mask = (self.mask << -offset) | 1
            self.base = hour
            return
        self.hour_set = self._hours_as_set()
        self.hour_set.add(hour)
        self.base, self.mask = None, 0

    def _hours_as_set(self):
        if self.hour_set is not None:
            return set(self.hour_set)
        hours, mask, i = set(), self.mask, 0
        while mask:
            if mask & 1:
                hours.add(self.base + i)
            mask >>= 1
            i += 1
        return hours

    def add_tiers(self, labels):
        self.tiers = union(self.tiers, labels)

    def add_namespaces(self, names):
        self.namespaces = union(self.namespaces, names)

    def merge(self, other):
        self.count += other.count
        if other.first is not None:
            self.add_time(other.first, other.last)
        self._merge_hours(other)
        self.extra_hours += other.extra_hours
        if other.tiers:
            self.add_tiers(sorted(other.tiers))
        if other.namespaces:
            self.add_namespaces(sorted(other.namespaces))

    def _merge_hours(self, other):
        if other.base is None and other.hour_set is None:
            return
        if self.base is None and self.hour_set is None:
            self.base, self.mask = other.base, other.mask
            self.hour_set = None if other.hour_set is None else set(other.hour_set)
            return
        if self.hour_set is None and other.hour_set is None:
            low = min(self.base, other.base)
            high = max(self.base + self.mask.bit_length(), other.base + other.mask.bit_length())
            if high - low < MAX_MASK_HOURS:
                self.mask = (self.mask << (self.base - low)) | (other.mask << (other.base - low))
                self.base = low
                return
        self.hour_set = self._hours_as_set() | other._hours_as_set()
        self.base, self.mask = None, 0

    @property
    def hours(self):
        """Distinct active hours (at least 1, at most the hours the pair spans)."""
        if self.hour_set is not None:
            exact = len(self.hour_set)
        else:
            exact = bin(self.mask).count("1") if self.mask else 0
        total = exact + self.extra_hours
        if self.first is not None and self.extra_hours:
            span = int(self.last // 3600) - int(self.first // 3600) + 1
            if span < total:
                total = span
        return total if total > 1 else 1
