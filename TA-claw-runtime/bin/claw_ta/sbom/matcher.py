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
5. evidence ``files_*``: ``unlisted`` (neither digest nor path listed; a name
   that is no listed file exactly, claw_ta.sbom.paths.digest_only, whose
   SHA-256 is not listed), or ``unverifiable`` when the event has no path and
   no SHA-256 the SBOM could have listed; a path reached only through a
   runtime prefix is matched by its SHA-256 alone;
6. evidence ``packages``: ``listed``/``package`` for a file directly in a
   library directory of the packages' distribution family (never /usr/local,
   claw_ta.sbom.paths.in_library_dirs) whose soname belongs to a listed package, else
   ``unverifiable`` (never ``unlisted``); evidence ``none``: ``unverifiable``.

A multivalue path/digest: every value is checked, the worst verdict wins.
"""
from claw_ta.sbom.paths import (digest_algorithm, digest_only, in_library_dirs, load_path, normalize_digest,
                                odd_characters, soname_keys, VDSO_NAMES)
from claw_ta.sbom.liblists import SHA256_LABEL as _SUBJECT_LABEL, Libraries, MappedLibraries, quick_normal
from claw_ta.sbom.schema import LIBRARY_COLUMNS, LIBRARY_KEY, SUBJECT_COLUMNS, SUBJECT_KEY
from claw_ta.sbom.sortedcsv import SortedTable

STATUS_FIELDS = ("sbom_status", "sbom_match", "sbom_ref", "sbom_reason")
EMPTY = ("", "", "", "")
CACHE_SIZE = 50000       # verdicts per generation (two generations are kept: hot keys survive)
# Bytes of library lists held (their lines, copied from the table): beyond this the lists, and the
# sets of documents that hold them, are dropped and read again from the table when needed.
LIST_BYTES = 64 << 20
_RANK = {"unlisted": 0, "unverifiable": 1, "no_sbom": 2, "listed": 3}
_EVIDENCE = ("files_sha256", "files_path", "packages", "none")
NO_SBOM = ("no_sbom", "", "", "no SBOM or in-toto link lists this binary or its image")


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
        self._libraries = {}  # sbom_id -> Libraries / MappedLibraries (LIST_BYTES at most)
        self._list_bytes = 0
        self._pools = {}      # (subject hex, image hex) -> [(evidence, first ref, sources)]
        self._digests = {}    # digest string -> ("sha256:<hex>" or None, algorithm note)
        self._paths = {}      # path string -> normalized path or ""
        self._hexes = {}      # subject/image digest string -> hex or ""
        self._by_strings = {}  # (subject, image) strings as events spell them -> pools
        self._hot = {}
        self._cold = {}
        self._rejected = 0
        self._refused = {}    # sbom_id -> library rows refused (counted once, whatever is reloaded)
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
        return self._rejected + sum(self._refused.values()) + len(self._malformed) + sum(
            getattr(t, "rejected", 0) for t in (self._subjects_table, self._libraries_table))

    def release(self):
        """Drop the table pages read so far from RSS (after each chunk)."""
        for table in (self._subjects_table, self._libraries_table):
            if hasattr(table, "release"):
                table.release()

    def decide(self, event_type, subject_digest, image_digest, library_path, library_digest):
        """:meth:`check_values` for single values, without its cache (the caller caches)."""
        if event_type != "library_load":
            return EMPTY
        return self._decide(subject_digest or "", image_digest or "", library_path or "", library_digest or "")

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
                found = MappedLibraries(*(span + (self._malformed, sbom_id)))
                size = found.end
            else:
                found = Libraries()
                refused = found.load(table.rows(sbom_id) if sbom_id and table is not None else ())
                if refused:
                    self._refused[sbom_id] = refused
                size = 0  # a table held in memory: no copy
            if self._list_bytes + size > LIST_BYTES:
                self._drop_lists()
            self._list_bytes += size
            self._libraries[sbom_id] = found
        return found

    def _drop_lists(self):
        """Forget the lists read so far and every set of documents that holds them (memory bound)."""
        self._libraries.clear()
        self._pools.clear()
        self._by_strings.clear()
        self._list_bytes = 0

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
            found = _remember(self._paths, value, quick_normal(value) or load_path(value))
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
        # the per-string caches read inline: a miss of the verdict cache is mostly these lookups
        raw, note = (self._digests.get(digest) or self._digest(digest)) if digest else (None, "")
        npath = self._paths.get(path) if path else ""
        if npath is None:
            npath = self._path(path)
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
    unvouched = False  # the path is listed without a SHA-256 where the document lists files with SHA-256
    if npath:
        listed_ref = None
        for evidence_of, libraries, ref in pool:
            has_sha256 = libraries.path_sha256(npath)
            if has_sha256:
                if raw is not None:
                    return ("unlisted", "path", ref, "path listed with another SHA-256: swapped library")
                return ("unverifiable", "path", ref,
                        "the SBOM lists a SHA-256 for this path and %s" % why_no_digest)
            # a path listed without a SHA-256 in a document that lists files with SHA-256 (a symlink,
            # a directory) never vouches for a load whose SHA-256 is not listed
            if has_sha256 is not None and raw is not None and evidence_of == "files_sha256":
                unvouched = True
            elif has_sha256 is not None and listed_ref is None:
                listed_ref = ref
        if listed_ref is not None:
            return ("listed", "path", listed_ref, "normalized path listed (the SBOM gives no SHA-256 for it)")
    stripped, why_path = digest_only(path) if path and not npath else ("", "the event has no library path")
    if stripped:  # reached through a runtime prefix: its path is no proof, a SHA-256 there still is
        for evidence_of, libraries, ref in pool:
            has_sha256 = libraries.path_sha256(stripped)
            if has_sha256 and raw is not None:
                return ("unlisted", "path", ref, "path listed with another SHA-256: swapped library; " + why_path)
            if has_sha256 or has_sha256 is not None and not (raw is not None and evidence_of == "files_sha256"):
                return ("unverifiable", "path", ref, "the path is listed but " + why_path + "; " +
                        (why_no_digest if raw is None else "the SBOM gives no SHA-256 for it"))
    if evidence in ("files_sha256", "files_path"):
        if unvouched:
            return ("unlisted", "", first_ref, "SHA-256 not listed, and the path is listed without a SHA-256 by an "
                    "SBOM that lists files with SHA-256 (a symlink or folder entry vouches for no content)")
        if npath or stripped:
            odd = odd_characters(path)
            return ("unlisted", "", first_ref, "neither the digest nor the path is listed by an SBOM that lists files"
                    + ("" if not odd else " (the name holds %s)" % odd))
        if path:  # an odd, fileless or deleted name where files are listed: listed only by its digest
            return ("unlisted", "", first_ref, ("SHA-256 not listed by an SBOM that lists files; " if raw is not None
                                                else "no SHA-256 to match on where the SBOM lists files; ") + why_path)
        if raw is not None and evidence == "files_sha256":
            return ("unlisted", "", first_ref, "SHA-256 not listed by an SBOM that lists files with SHA-256; "
                    + why_path)
        return ("unverifiable", "", first_ref, why_path + ("" if raw is not None else "; " + why_no_digest))
    if evidence == "packages":
        if npath:
            for key in soname_keys(npath):
                for _, libraries, ref in pool:
                    if key in libraries.packages and in_library_dirs(npath, libraries.families):
                        return ("listed", "package", ref,
                                "soname of a listed package in a standard library directory of its distribution "
                                "(the SBOM lists packages only: lower confidence)")
        return ("unverifiable", "", first_ref,
                "the SBOM lists packages only: it cannot tell this file from a foreign one"
                + ("" if npath or not path else " (%s)" % why_path))
    return ("unverifiable", "", first_ref, "the SBOM lists nothing a library can be matched on")
