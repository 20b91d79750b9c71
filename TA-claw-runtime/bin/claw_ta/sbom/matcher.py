"""The verdict rules of ``| clawsbomcheck`` (and of the offline replay), docs/sbom.md.

For a ``library_load`` event, the documents that apply are those whose
subject is the event's ``subject_digest`` (the binary) or ``image_digest``;
an image index digest stands for its platform manifests, each checked on its
own (``listed`` if any platform lists the file, ``unlisted`` only if every
platform does not). Within one set of documents, with ``evidence`` the best
of theirs:

1. no document: ``no_sbom``;
2. the vDSO by its bare name (``[vdso]``, ``linux-vdso.so.1``): ``listed``;
3. the loaded file's SHA-256 listed: ``listed``/``digest``;
4. its normalized path listed with a SHA-256: ``unlisted``/``path`` (the event's
   SHA-256 differs: a swapped library) or ``unverifiable`` (the event has no
   SHA-256); listed without one: ``listed``/``path``;
5. evidence ``files_*``: ``unlisted`` (neither digest nor path listed), or
   ``unverifiable`` when there is neither a comparable path nor a SHA-256 the
   SBOM could have listed;
6. evidence ``packages``: ``listed``/``package`` for a file directly in a
   standard library directory whose soname belongs to a listed package, else
   ``unverifiable`` (never ``unlisted``); evidence ``none``: ``unverifiable``.

A multivalue path/digest: every value is checked, the worst verdict wins.
"""
import csv
import re

from claw_ta.sbom.paths import (digest_algorithm, in_library_dirs, is_unmatchable, normalize_digest,
                                normalize_path, package_key, soname_keys, VDSO_NAMES)
from claw_ta.sbom.schema import LIBRARY_COLUMNS, LIBRARY_KEY, SUBJECT_COLUMNS, SUBJECT_KEY
from claw_ta.sbom.sortedcsv import SortedTable

STATUS_FIELDS = ("sbom_status", "sbom_match", "sbom_ref", "sbom_reason")
EMPTY = ("", "", "", "")
CACHE_SIZE = 50000       # verdicts per generation (two generations are kept: hot keys survive)
_RANK = {"unlisted": 0, "unverifiable": 1, "no_sbom": 2, "listed": 3}
_EVIDENCE = ("files_sha256", "files_path", "packages", "none")
_SUBJECT_LABEL = re.compile(r"^sha256:[0-9a-f]{64}$")
NO_SBOM = ("no_sbom", "", "", "no SBOM or in-toto link lists this binary or its image")


class _Libraries(object):
    """One library list (a document's) in memory: digests, paths (with or without SHA-256), packages."""
    __slots__ = ("digests", "paths", "packages")

    def __init__(self):
        self.digests = set()   # "sha256:<hex>"
        self.paths = {}        # normalized path -> True when the SBOM gives a SHA-256 for it
        self.packages = set()  # package stems (soname rule)

    def has_digest(self, label):
        return label in self.digests

    def path_sha256(self, npath):
        """None: path not listed; True: listed with a SHA-256; False: listed without one."""
        return self.paths.get(npath)


class _MappedLibraries(object):
    """One library list read in place: its lines in the sorted table's mmap, searched with find().

    A hit is confirmed on its own line (the searched text must be that column),
    so a digest inside a purl or a path inside a name never counts.
    """
    __slots__ = ("map", "start", "end", "_packages", "_malformed")

    def __init__(self, mapped, start, end, malformed):
        self.map, self.start, self.end = mapped, start, end
        self._packages = None
        self._malformed = malformed  # set of (start of list, row) found malformed: counted once

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
        for _ in self._hits(label, 1):  # sbom_id,path,<digest>
            return True
        return False

    def path_sha256(self, npath):
        found = None
        data = self.map
        for after in self._hits(npath, 0):  # sbom_id,<path>,digest
            comma = data.find(b",", after, self.end)
            digest = data[after:comma if comma >= 0 else self.end]
            if digest and not _SUBJECT_LABEL.match(digest.decode("ascii", "replace")):
                self._malformed.add((self.start, after))  # refused, as a table read whole refuses it
                continue
            found = found or bool(digest)
        return found

    @property
    def packages(self):
        if self._packages is None:
            text = self.map[self.start:self.end].decode("utf-8", "replace")
            self._packages = set(package_key(row[3]) for row in csv.reader(text.splitlines())
                                 if len(row) > 3 and row[3] and not row[1] and not row[2])
        return self._packages


class SbomIndex(object):
    """The SBOM tables, read as events need them; :meth:`check_values` decides.

    ``subjects``/``libraries`` are tables with ``rows(key)`` (SortedTable, or
    in memory for the replay). ``rejected`` counts index rows refused as
    malformed (a digest that is not SHA-256, an unknown evidence level).
    """

    def __init__(self, subjects=None, libraries=None):
        self._subjects_table = subjects
        self._libraries_table = libraries
        self._subjects = {}   # hex -> [(evidence, sbom_id, ref, platform hexes)]
        self._libraries = {}  # sbom_id -> _Libraries
        self._pools = {}      # (subject hex, image hex) -> [[(evidence, _Libraries, ref)]]
        self._digests = {}    # digest string -> ("sha256:<hex>" or None, algorithm note)
        self._paths = {}      # path string -> normalized path or ""
        self._hexes = {}      # subject/image digest string -> hex or ""
        self._by_strings = {}  # (subject, image) strings as events spell them -> pools
        self._hot = {}
        self._cold = {}
        self._rejected = 0
        self._malformed = set()

    # --- building -------------------------------------------------------------

    @classmethod
    def load(cls, subjects_path, libraries_path):
        """Index over the two lookup files (either may be None: an empty table)."""
        subjects = SortedTable(subjects_path, SUBJECT_COLUMNS, SUBJECT_KEY) if subjects_path else None
        libraries = SortedTable(libraries_path, LIBRARY_COLUMNS, LIBRARY_KEY) if libraries_path else None
        return cls(subjects, libraries)

    @classmethod
    def from_tables(cls, tables):
        subjects, libraries = _MemoryTable(), _MemoryTable()
        for row in tables.subject_rows():
            subjects.setdefault(row["subject_digest"], []).append([row[c] for c in SUBJECT_COLUMNS])
        for row in tables.library_rows():
            libraries.setdefault(row["sbom_id"], []).append([row[c] for c in LIBRARY_COLUMNS])
        return cls(subjects, libraries)

    @classmethod
    def from_rows(cls, rows):
        """Index of joined rows (subject_digest, library columns, sbom_ref): tests, old lookups."""
        from claw_ta.sbom.index import tables_from_rows
        return cls.from_tables(tables_from_rows(rows))

    @classmethod
    def from_documents(cls, docs):
        from claw_ta.sbom.index import Tables
        tables = Tables()
        for doc in docs:
            tables.add(doc)
        return cls.from_tables(tables)

    @property
    def rejected(self):
        """Index rows refused as malformed so far (a digest that is not SHA-256, ...)."""
        return self._rejected + len(self._malformed) + sum(
            getattr(t, "rejected", 0) for t in (self._subjects_table, self._libraries_table))

    @property
    def eager_reasons(self):
        return [t.eager_reason for t in (self._subjects_table, self._libraries_table)
                if getattr(t, "eager_reason", "")]

    def _subject(self, hexdigest):
        found = self._subjects.get(hexdigest)
        if found is None:
            found = []
            table = self._subjects_table
            for row in (table.rows("sha256:" + hexdigest) if table is not None else ()):
                _, _, evidence, sbom_id, ref, _, platforms = row
                if evidence not in _EVIDENCE:
                    self._rejected += 1
                    continue
                children = []
                for label in platforms.split():
                    child = normalize_digest(label)
                    if child:
                        children.append(child)
                    else:
                        self._rejected += 1
                found.append((evidence, sbom_id, ref, tuple(children)))
            self._subjects[hexdigest] = found
        return found

    def _library_list(self, sbom_id):
        found = self._libraries.get(sbom_id)
        if found is None:
            table = self._libraries_table
            span = table.span(sbom_id) if sbom_id and hasattr(table, "span") else None
            if span is not None:
                found = self._libraries[sbom_id] = _MappedLibraries(*(span + (self._malformed,)))
                return found
            found = self._libraries[sbom_id] = _Libraries()
            digests, paths, packages = found.digests, found.paths, found.packages
            for row in (table.rows(sbom_id) if sbom_id and table is not None else ()):
                path, digest = row[1], row[2]
                raw = None
                if digest:
                    raw = _table_digest(digest)
                    if raw is None:
                        self._rejected += 1  # a digest that is not a SHA-256: the row is refused
                        continue
                    digests.add(raw)  # "sha256:<hex>", lower case
                if path:
                    if not _looks_normal(path):
                        path = normalize_path(path)
                        if not path:
                            self._rejected += 1 if raw is None else 0
                            continue
                    paths[path] = paths.get(path, False) or raw is not None
                elif row[3] and raw is None:
                    key = package_key(row[3])
                    if key:
                        packages.add(key)
        return found

    def _sources(self, hexdigest):
        return [(evidence, self._library_list(sbom_id), ref)
                for evidence, sbom_id, ref, _ in self._subject(hexdigest) if sbom_id]

    def _pool_list(self, subject_hex, image_hex):
        key = (subject_hex, image_hex)
        pools = self._pools.get(key)
        if pools is None:
            direct, children = [], []
            for digest in (subject_hex, image_hex):
                if digest:
                    direct.extend(s for s in self._sources(digest) if s not in direct)
                    for entry in self._subject(digest):
                        children.extend(c for c in entry[3] if c not in children)
            pools = _remember(self._pools, key, [_pool(direct + self._sources(c)) for c in children]
                              if children else [_pool(direct)])
        return pools

    # --- normalization, once per distinct string --------------------------------

    def _digest(self, value):
        """(``sha256:<lower hex>`` or None, what the value is when it is not a SHA-256)."""
        found = self._digests.get(value)
        if found is None:
            if len(value) == 71 and value.startswith("sha256:") and _SUBJECT_LABEL.match(value):
                label = value  # the canonical spelling: no work
            else:
                hexdigest = normalize_digest(value)
                label = "sha256:" + hexdigest if hexdigest else None
            found = _remember(self._digests, value,
                              (label, "" if label is not None else (digest_algorithm(value) or "malformed")))
        return found

    def _path(self, value):
        found = self._paths.get(value)
        if found is None:
            found = _remember(self._paths, value, normalize_path(value))
        return found

    def _hex(self, value):
        if not value:
            return ""
        found = self._hexes.get(value)
        if found is None:
            found = _remember(self._hexes, value, value[7:] if len(value) == 71 and _SUBJECT_LABEL.match(value)
                              else normalize_digest(value))
        return found

    # --- checking -------------------------------------------------------------

    def check(self, record):
        """``{sbom_status, sbom_match, sbom_ref, sbom_reason}`` for an event dict (multivalue: lists)."""
        def first(value):
            return (value[0] if value else None) if isinstance(value, (list, tuple)) else value
        return dict(zip(STATUS_FIELDS, self.check_values(
            first(record.get("event_type")), first(record.get("subject_digest")),
            first(record.get("image_digest")), record.get("library_path"), record.get("library_digest"))))

    def check_values(self, event_type, subject_digest, image_digest, library_path, library_digest):
        """(status, match, ref, reason); path and digest may be lists (every value is checked)."""
        if event_type != "library_load":
            return EMPTY
        if isinstance(library_path, (list, tuple)) or isinstance(library_digest, (list, tuple)):
            return self._check_many(subject_digest, image_digest, library_path, library_digest)
        key = (subject_digest, image_digest, library_path, library_digest)
        found = self._hot.get(key)
        if found is None:
            found = self._cold.get(key)
            if found is None:
                found = self._decide(subject_digest or "", image_digest or "", library_path or "",
                                     library_digest or "")
            if len(self._hot) >= CACHE_SIZE:
                self._cold = self._hot
                self._hot = {}
            self._hot[key] = found
        return found

    def _check_many(self, subject_digest, image_digest, paths, digests):
        paths = list(paths) if isinstance(paths, (list, tuple)) else [paths]
        digests = list(digests) if isinstance(digests, (list, tuple)) else [digests]
        if len(paths) == len(digests):
            pairs = list(zip(paths, digests))
        else:  # values that cannot be paired: each path without a digest, each digest without a path
            pairs = [(p, None) for p in paths] + [(None, d) for d in digests]
        results = [self.check_values("library_load", subject_digest, image_digest, p, d)
                   for p, d in pairs or [(None, None)]]
        return min(results, key=lambda r: _RANK[r[0]])

    def _decide(self, subject_digest, image_digest, path, digest):
        pools = self._by_strings.get((subject_digest, image_digest))
        if pools is None:
            pools = _remember(self._by_strings, (subject_digest, image_digest),
                              self._pool_list(self._hex(subject_digest), self._hex(image_digest)))
        if path in VDSO_NAMES:
            if not any(p[2] for p in pools):
                return NO_SBOM
            ref = next(p[1] for p in pools if p[2])
            return ("listed", "", ref, "kernel vDSO: not a file, implicitly allowed")
        raw, note = self._digest(digest) if digest else (None, "")
        npath = self._path(path) if path else ""
        if len(pools) == 1:
            return _verdict(pools[0], path, npath, raw, note)
        results = [_verdict(pool, path, npath, raw, note) for pool in pools]
        for result in results:
            if result[0] == "listed":
                return result
        if all(r[0] == "unlisted" for r in results):
            return results[0][:3] + ("every platform manifest's SBOM: " + results[0][3],)
        if all(r[0] == "no_sbom" for r in results):
            return NO_SBOM
        worst = min((r for r in results if r[0] != "unlisted"), key=lambda r: _RANK[r[0]])
        return ("unverifiable", worst[1], worst[2],
                "image index: not listed for every platform, and a platform cannot decide (%s)" % worst[3])


def _remember(cache, key, value):
    """``cache[key] = value``, the cache emptied first when it is full (per-string caches)."""
    if len(cache) > CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _table_digest(value):
    """A table's digest as ``sha256:<lower hex>``, or None when it is not a SHA-256."""
    if len(value) == 71 and value.startswith("sha256:") and _SUBJECT_LABEL.match(value):
        return value
    hexdigest = normalize_digest(value)
    return "sha256:" + hexdigest if hexdigest else None


def _csv_field(value):
    """How the builder writes a value in a table line (claw_ta.sbom.index)."""
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _looks_normal(path):
    """A path as the builder writes it (absolute, normalized, merged /usr): no regex needed."""
    return (path[0] == "/" and "//" not in path and "/." not in path and "\\" not in path
            and not path.startswith(_UNMERGED) and path == path.strip() and path.isprintable()
            and ":" not in path and "(deleted)" not in path and "libc.musl-" not in path)


_UNMERGED = ("/lib/", "/lib32/", "/lib64/", "/libx32/", "/bin/", "/sbin/", "/var/lib/", "/run/", "/proc/")


class _MemoryTable(dict):
    """A table held in memory (the replay's): key -> rows."""

    def rows(self, key):
        return self.get(key, [])


def _pool(sources):
    """(best evidence, first ref, sources) of one set of documents."""
    if not sources:
        return ("", "", ())
    return (min((source[0] for source in sources), key=_EVIDENCE.index), sources[0][2], tuple(sources))


def _verdict(pool, path, npath, raw, note):
    """(status, match, ref, reason) of one load against one set of documents."""
    evidence, first_ref, pool = pool
    if not pool:
        return NO_SBOM
    if raw is not None:
        for _, libraries, ref in pool:
            if libraries.has_digest(raw):
                return ("listed", "digest", ref, "content digest listed")
    why_no_digest = "the event has no SHA-256 digest" if not note else \
        "the event's digest is not a canonical SHA-256 (%s)" % note
    if npath:
        listed_ref = None
        for _, libraries, ref in pool:
            has_sha256 = libraries.path_sha256(npath)
            if has_sha256:
                if raw is not None:
                    return ("unlisted", "path", ref, "path listed with another SHA-256: swapped library")
                return ("unverifiable", "path", ref,
                        "the SBOM lists a SHA-256 for this path and %s" % why_no_digest)
            if has_sha256 is not None and listed_ref is None:
                listed_ref = ref
        if listed_ref is not None:
            return ("listed", "path", listed_ref, "normalized path listed (the SBOM gives no SHA-256 for it)")
    if path and not npath:
        why_path = "the path cannot be compared by path (memfd, deleted or /proc fd)" \
            if is_unmatchable(path) else "the path cannot be normalized safely"
    else:
        why_path = "the event has no library path" if not path else ""
    if evidence in ("files_sha256", "files_path"):
        if npath:
            return ("unlisted", "", first_ref, "neither the digest nor the path is listed by an SBOM that lists files")
        if raw is not None and evidence == "files_sha256":
            return ("unlisted", "", first_ref, "SHA-256 not listed by an SBOM that lists files with SHA-256; "
                    + why_path)
        return ("unverifiable", "", first_ref, why_path + ("" if raw is not None else "; " + why_no_digest))
    if evidence == "packages":
        if npath and in_library_dirs(npath):
            for key in soname_keys(npath):
                for _, libraries, ref in pool:
                    if key in libraries.packages:
                        return ("listed", "package", ref,
                                "soname of a listed package in a standard library directory "
                                "(the SBOM lists packages only: lower confidence)")
        return ("unverifiable", "", first_ref,
                "the SBOM lists packages only: it cannot tell this file from a foreign one")
    return ("unverifiable", "", first_ref, "the SBOM lists nothing a library can be matched on")
