"""A document's library list, as the matcher asks it: is this SHA-256 listed, this path, this package?

:class:`Libraries` holds a list in memory (the replay, a table read whole);
:class:`MappedLibraries` searches it in place: a copy of its lines from the
sorted table's mmap (claw_ta.sbom.sortedcsv), so nothing is parsed per row
and a lookup is one ``bytes.find`` (``mmap.find`` is a byte-by-byte loop
before Python 3.10).
"""
import csv
import re

from claw_ta.sbom.paths import normalize_digest, normalize_path, package_key, purl_family

SHA256_LABEL = re.compile(r"^sha256:[0-9a-f]{64}$")
SETS_AFTER = 24  # lookups of one list searched in place before it is parsed into sets


class Libraries(object):
    """One library list (a document's) in memory: digests, paths (with or without SHA-256), packages."""
    __slots__ = ("digests", "paths", "packages", "families")

    def __init__(self):
        self.digests = set()   # "sha256:<hex>"
        self.paths = {}        # normalized path -> True when the SBOM gives a SHA-256 for it
        self.packages = set()  # package stems (soname rule)
        self.families = set()  # distribution families of its packages' purls (deb, rpm, apk, alpm)

    def has_digest(self, label):
        return label in self.digests

    def path_sha256(self, npath):
        """None: path not listed; True: listed with a SHA-256; False: listed without one."""
        return self.paths.get(npath)

    def load(self, rows):
        """Add LIBRARY_COLUMNS rows; returns how many were refused as malformed."""
        refused = 0
        digests, paths, packages = self.digests, self.paths, self.packages
        for row in rows:
            path, digest = row[1], row[2]
            label = None
            if digest:
                label = _table_digest(digest)
                if label is None:
                    refused += 1  # a digest that is not a SHA-256: the row is refused
                    continue
                digests.add(label)
            if path:
                if not _looks_normal(path):
                    path = normalize_path(path)
                    if not path:
                        refused += label is None
                        continue
                paths[path] = paths.get(path, False) or label is not None
            elif row[3] and label is None:
                key = package_key(row[3])
                if key:
                    packages.add(key)
                    family = purl_family(row[5]) if len(row) > 5 else ""
                    if family:
                        self.families.add(family)
        return refused


class MappedLibraries(object):
    """One library list read in place: its lines (copied out of the sorted table's mmap), searched
    with find().

    A hit is confirmed on its own line (the searched text must be that column),
    so a digest inside a purl or a path inside a name never counts. A list
    asked more than SETS_AFTER times is parsed once into sets by the same
    rules (a column's exact text), so a hot document costs a hash lookup.
    """
    __slots__ = ("map", "start", "end", "_packages", "_families", "_malformed", "_origin", "_lookups", "_digests",
                 "_paths", "_bad")

    def __init__(self, data, start, end, malformed, origin):
        self.map, self.start, self.end = data[start:end], 0, end - start
        self._origin = origin  # the list's name in ``malformed``
        self._packages = self._families = None
        self._malformed = malformed  # set of (origin, start of row) found malformed: counted once
        self._lookups = 0
        self._digests = self._paths = self._bad = None

    def _hits(self, text, commas_before):
        """Positions after ``,<text>,`` where it is the column after ``commas_before`` commas."""
        pattern = ("," + _csv_field(text) + ",").encode("utf-8")
        data, start, end = self.map, self.start, self.end
        pos = data.find(pattern, start, end)
        while pos >= 0:
            head = data[max(start, data.rfind(b"\n", start, pos) + 1):pos]
            if b'"' not in head:
                if head.count(b",") == commas_before:
                    yield pos + len(pattern)
            else:  # a quoted field before it: parse the line to be sure
                line_end = data.find(b"\n", pos, end)
                row = next(csv.reader([(head + data[pos:line_end if line_end >= 0 else end])
                                       .decode("utf-8", "replace")]), [])
                if len(row) > commas_before + 1 and row[commas_before + 1] == text:
                    yield pos + len(pattern)
            pos = data.find(pattern, pos + 1, end)

    def has_digest(self, label):
        if self._digests is None:
            self._lookups += 1
            if self._lookups < SETS_AFTER:
                return self._find_digest(label)
            self._to_sets()
        return label in self._digests

    def _find_digest(self, label):
        # The common case inline (no generator): the digest column of an unquoted line.
        pattern = ("," + label + ",").encode("ascii")
        data, start, end = self.map, self.start, self.end
        pos = data.find(pattern, start, end)
        if pos < 0:
            return False
        head = data[max(start, data.rfind(b"\n", start, pos) + 1):pos]
        if b'"' not in head and head.count(b",") == 1:
            return True
        for _ in self._hits(label, 1):  # sbom_id,path,<digest>
            return True
        return False

    def path_sha256(self, npath):
        """None: path not listed; True: listed with a SHA-256; False: listed without one."""
        if self._paths is None:
            self._lookups += 1
            if self._lookups < SETS_AFTER:
                return self._find_path(npath)
            self._to_sets()
        if self._bad and npath in self._bad:
            self._malformed.update(self._bad[npath])
        return self._paths.get(npath)

    def _find_path(self, npath):
        found = None
        data = self.map
        for after in self._hits(npath, 0):  # sbom_id,<path>,digest
            comma = data.find(b",", after, self.end)
            digest = data[after:comma if comma >= 0 else self.end]
            if digest and not SHA256_LABEL.match(digest.decode("ascii", "replace")):
                # refused, as a table read whole refuses it
                self._malformed.add((self._origin, data.rfind(b"\n", 0, after) + 1))
                continue
            found = found or bool(digest)
        return found

    def _to_sets(self):
        """The columns _find_digest and _find_path compare, as a set and dicts (same answers)."""
        digests, paths, bad = set(), {}, {}
        line_start = 0
        for line in self.map.split(b"\n"):
            text = line.decode("utf-8", "surrogateescape")
            row = next(csv.reader([text]), []) if '"' in text else text.split(",")
            if len(row) > 3:
                digests.add(row[2])
            if len(row) > 2:
                path, digest = row[1], row[2]
                if digest and not SHA256_LABEL.match(digest):
                    bad.setdefault(path, []).append((self._origin, line_start))
                else:
                    paths[path] = paths.get(path, False) or bool(digest)
            line_start += len(line) + 1
        self._digests, self._paths, self._bad = digests, paths, bad

    @property
    def packages(self):
        if self._packages is None:
            text = self.map[self.start:self.end].decode("utf-8", "replace")
            rows = [row for row in csv.reader(text.splitlines())
                    if len(row) > 3 and row[3] and not row[1] and not row[2]]
            self._packages = set(package_key(row[3]) for row in rows)
            self._families = set(purl_family(row[5]) for row in rows if len(row) > 5) - set([""])
        return self._packages

    @property
    def families(self):
        """Distribution families of the packages' purls (claw_ta.sbom.paths.purl_family)."""
        if self._families is None:
            self.packages
        return self._families


def _table_digest(value):
    """A table's digest as ``sha256:<lower hex>``, or None when it is not a SHA-256."""
    if len(value) == 71 and value.startswith("sha256:") and SHA256_LABEL.match(value):
        return value
    hexdigest = normalize_digest(value)
    return "sha256:" + hexdigest if hexdigest else None


def _csv_field(value):
    """How the builder writes a value in a table line (claw_ta.sbom.index)."""
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def canonical_path(path):
    """True when ``normalize_path(path) == path`` is certain without running it (no regex): an
    event path as the loader usually reports it."""
    return (bool(path) and _looks_normal(path) and path[-1] != "/"
            and not path.startswith(("/dev/shm/", "/var/snap/")))


def quick_normal(path):
    """``normalize_path(path)`` for the usual spellings (already canonical, or ``/lib/...`` of a
    merged /usr), found without a regex; None when it takes normalize_path to tell."""
    if canonical_path(path):
        return path
    if path.startswith(_MERGED) and canonical_path("/usr" + path):
        return "/usr" + path
    return None


def _looks_normal(path):
    """A path as the builder writes it (absolute, normalized, merged /usr): no regex needed."""
    return (path[0] == "/" and "//" not in path and "/." not in path and "\\" not in path
            and not path.startswith(_UNMERGED) and path == path.strip() and path.isprintable()
            and ":" not in path and "(deleted)" not in path and "libc.musl-" not in path)


_MERGED = ("/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/", "/sbin/")
_UNMERGED = _MERGED + ("/var/lib/", "/run/", "/proc/")
