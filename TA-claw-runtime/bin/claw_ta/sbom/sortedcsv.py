"""A CSV lookup sorted by its first column, searched in place.

``claw-ta sbom-index`` and ``| clawsbomindex`` write the SBOM tables sorted
by their key (first column), one record per line. Opening one maps the file
(``mmap``) and reads only a sample of its keys (a sparse index: the key at
every 1/SAMPLES of the file); :meth:`SortedTable.rows` finds a key's lines by
bisecting the sample, then one ``find`` in the stretch between two samples, so
start-up and memory do not grow with the number of rows, only with the keys a
search asks for. A chunk naming many new keys reads them together
(:meth:`SortedTable.prefetch`): one pass in key order, neighbouring stretches
read with one ``pread``, instead of one read per key.

A file that does not have that shape (hand-edited out of order, the key not
first, a quoted key that is not a plain token) is detected by a sampled
check at open and read whole into a dict instead (correct, slower); the
reason is kept in :attr:`SortedTable.eager_reason` for a warning.
"""
import csv
import io
import bisect
import mmap
import os
import re

_DONTNEED = getattr(mmap, "MADV_DONTNEED", None) if hasattr(mmap.mmap, "madvise") else None
SAMPLES = 4096  # keys sampled at open: the order check and the sparse index (plus first and last)
# Every page a search touches is mapped with its neighbours (the kernel's fault-around,
# 64 KB): after this many searches the table's pages are dropped from RSS (release()).
RELEASE_EVERY = 128
_PREAD = hasattr(os, "pread")
PREFETCH_READ = 4 << 20    # bytes of table read by one pread of a prefetch (neighbouring stretches merged)
PREFETCH_GAP = 256 << 10   # bytes between two keys' stretches still read in the same pread
PREFETCH_BYTES = 48 << 20  # lines kept by one prefetch; keys past it are read one by one as before


def read_header(path):
    """The column names of a CSV file's first line ([] for an empty file)."""
    with open(path, "rb") as handle:
        line = handle.readline()
    if line.startswith(b"\xef\xbb\xbf"):
        line = line[3:]
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    return [name.strip() for name in next(csv.reader([text]), [])] if text.strip() else []


class SortedTable(object):
    """Rows of a CSV table by key; ``columns`` must be among the header's (ValueError if not).

    :meth:`rows` returns lists in ``columns`` order. ``key_pattern`` (a
    regex of bytes) is what a well-formed key looks like.
    """
    _map = None
    _fd = None  # a descriptor of the file for pread (where the platform has it)

    def __init__(self, path, columns, key_pattern):
        self.path = path
        header = read_header(path)
        missing = [c for c in columns if c not in header]
        if header and missing:
            raise ValueError("%s: no column %s (expected %s)"
                             % (os.path.basename(path), ", ".join(missing), ",".join(columns)))
        self._at = [header.index(c) for c in columns] if header else []
        self._width = max(self._at) + 1 if self._at else 0
        self._key = re.compile(key_pattern)
        self._map = None
        self._rows = None
        self.eager_reason = ""
        self.rejected = 0  # rows of a table read whole whose key is not well-formed
        self._searches = 0
        self._prefetched = {}  # key bytes -> its lines (b"" when absent), from the last prefetch()
        if not header:
            self._rows = {}
            return
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            first = handle.readline()
            self._start = len(first)
            if size <= self._start:
                self._rows = {}
                return
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            if _PREAD:
                self._fd = os.dup(handle.fileno())
        if self._at[0] != 0:
            self._load_all("its key column %s is not the first" % columns[0])
        elif not self._looks_sorted():
            self._load_all("it is not sorted by %s (hand-edited?)" % columns[0])
        else:
            self.release()

    # --- the sorted file -------------------------------------------------------

    def _key_at(self, start):
        """(key bytes, end of line) of the line starting at ``start``."""
        data = self._map
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        comma = data.find(b",", start, end)
        field = data[start:comma if comma >= 0 else end].rstrip(b"\r\n")
        if field[:1] == b'"' and field[-1:] == b'"':
            field = field[1:-1]
        return field, end

    def _line_start(self, offset):
        return max(self._start, self._map.rfind(b"\n", 0, offset) + 1)

    def _looks_sorted(self):
        """Sample the keys (kept as the sparse index); False if they are out of order or malformed."""
        size = len(self._map)
        count = max(2, min(SAMPLES, (size - self._start) // 256))
        keys, offsets = [], []
        for i in range(count + 1):
            if i % RELEASE_EVERY == RELEASE_EVERY - 1:
                self.release()
            offset = self._line_start(self._start + (size - self._start) * i // count if i < count else size - 1)
            if offsets and offset <= offsets[-1]:
                continue
            key, _ = self._key_at(offset)
            if keys and key < keys[-1] or not self._key.match(key) or self._map[offset:offset + 1] == b'"':
                return False
            keys.append(key)
            offsets.append(offset)
        self._sample_keys, self._sample_offsets = keys, offsets
        return True

    def span(self, key):
        """(data, start, end): ``key``'s lines are ``data[start:end]`` (bytes; start == end when there
        are none); None when the table is held in memory or its columns are not in the requested order."""
        if self._map is None or self._at != list(range(len(self._at))):
            return None
        return self._span(key.encode("utf-8"))

    def _stretch(self, key):
        """[lo, hi): the bytes between the samples around ``key``; its lines, if any, are in there."""
        keys, offsets = self._sample_keys, self._sample_offsets
        i = bisect.bisect_left(keys, key)
        j = bisect.bisect_right(keys, key, i)
        return (offsets[i - 1] if i > 0 else self._start), (offsets[j] if j < len(offsets) else len(self._map))

    def prefetch(self, keys):
        """Read the lines of many keys (str) in one pass in key order, kept for :meth:`rows` and
        :meth:`span` until the next prefetch: stretches less than PREFETCH_GAP apart are read with one
        ``pread`` (at most PREFETCH_READ bytes), each key then found in its own stretch. Up to PREFETCH_BYTES of lines;
        later keys are read one by one when asked. Nothing for a table held in memory."""
        self._prefetched = {}
        if self._map is None or self._at != list(range(len(self._at))):
            return
        wanted = sorted(set(k.encode("utf-8") for k in keys))
        found, kept, at = self._prefetched, 0, 0
        while at < len(wanted) and kept <= PREFETCH_BYTES:
            lo, hi = self._stretch(wanted[at])
            group = [(wanted[at], lo, hi)]
            at += 1
            while at < len(wanted):
                k_lo, k_hi = self._stretch(wanted[at])
                if k_lo - hi > PREFETCH_GAP or k_hi - lo > PREFETCH_READ:
                    break
                hi = max(hi, k_hi)
                group.append((wanted[at], k_lo, k_hi))
                at += 1
            if self._fd is not None:
                window, base = os.pread(self._fd, hi - lo + 1, lo - 1), lo - 1
            else:
                window, base = self._map, 0
            for key, k_lo, k_hi in group:
                pattern = b"\n" + key + b","
                first = window.find(pattern, k_lo - 1 - base, k_hi - base)
                if first < 0:
                    found[key] = b""
                    continue
                last = window.rfind(pattern, first, k_hi - base) + 1
                end = window.find(b"\n", last)
                found[key] = lines = window[first + 1:end + 1 if end >= 0 else len(window)]
                kept += len(lines)
            del window

    def _span(self, key):
        got = self._prefetched.get(key) if self._prefetched else None
        if got is not None:
            return got, 0, len(got)
        data = self._map
        lo, hi = self._stretch(key)
        self._searches += 1
        if self._searches % RELEASE_EVERY == 0:
            self.release()
        # The stretch (from the line end before its first line) read with pread: no page of the map
        # is touched (a page fault costs more than the copy, and the page would count in RSS), and
        # mmap.find is a byte-by-byte loop before Python 3.10.
        if self._fd is not None:
            window, base = os.pread(self._fd, hi - lo + 1, lo - 1), lo - 1
        else:
            window, base = data, 0
        pattern = b"\n" + key + b","
        first = window.find(pattern, lo - 1 - base, hi - base)
        if first < 0:
            return window, 0, 0
        last = window.rfind(pattern, first, hi - base) + 1
        end = window.find(b"\n", last)
        return window, first + 1, end + 1 if end >= 0 else len(window)

    def _lines_of(self, key):
        window, start, end = self._span(key)
        return [window[start:end]] if end > start else []

    # --- the fallback: everything in memory ------------------------------------

    def _load_all(self, reason):
        self.eager_reason = reason
        text = self._map[self._start:].decode("utf-8", "replace")
        self.close()
        self._rows = rows = {}
        at, width = self._at, self._width
        for row in csv.reader(io.StringIO(text, newline="")):
            if len(row) >= width:
                key = row[at[0]].strip()
                if not self._key.match(key.encode("utf-8")):
                    self.rejected += 1
                    continue
                rows.setdefault(key, []).append([row[i] for i in at])

    # --- lookups ----------------------------------------------------------------

    def rows(self, key):
        """The rows (lists in ``columns`` order) whose key is ``key`` (str)."""
        if self._rows is not None:
            return self._rows.get(key, [])
        lines = self._lines_of(key.encode("utf-8"))
        if not lines:
            return []
        at, width = self._at, self._width
        text = b"".join(lines).decode("utf-8", "replace")
        if '"' in text or "\r" in text:
            rows = csv.reader(io.StringIO(text, newline=""))
        else:  # nothing quoted: the fields are the text between commas
            rows = [line.split(",") for line in text.split("\n")]
        return [[row[i] for i in at] for row in rows if len(row) >= width]

    def keys(self):
        """Every key (reads the whole file: for tests and small tables)."""
        if self._rows is not None:
            return list(self._rows)
        keys, offset = [], self._start
        while offset < len(self._map):
            key, offset = self._key_at(offset)
            if not keys or keys[-1] != key.decode("utf-8", "replace"):
                keys.append(key.decode("utf-8", "replace"))
        return keys

    def release(self, start=0, end=None):
        """Drop the mapped pages read so far from this process's RSS (they stay in the page
        cache: reading them again is a minor fault). Searches touch pages of a large table
        that are not needed again; without this they would count as resident memory."""
        if self._map is not None and _DONTNEED is not None:
            start -= start % mmap.PAGESIZE  # madvise wants a page-aligned start
            end = len(self._map) if end is None else min(end, len(self._map))
            if end > start:
                self._map.madvise(_DONTNEED, start, end - start)

    def close(self):
        self._prefetched = {}
        if self._map is not None:
            self._map.close()
            self._map = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self):
        self.close()
