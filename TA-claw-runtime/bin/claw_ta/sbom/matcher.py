"""The verdict rules of ``| clawsbomcheck`` (and of the offline replay), docs/sbom.md.

For a ``library_load`` event, the documents that apply are those whose
subject is the event's ``subject_digest`` (the binary) or ``image_digest``;
an image index digest stands for its platform manifests, each checked on its
own (``listed`` if any platform lists the file, ``unlisted`` only if every
platform does not; only the node's platform, ``claw_node_platform``, where it
is known). Which documents decide (docs/sbom.md, "Trust and precedence"):

- ``untrusted`` documents never decide (their count is in the reason), nor
  do the platform manifests they name;
- within a scope, ``verified`` documents that list files outrank ``channel``
  ones (a channel document never widens a verified list);
- documents of the image (and its platform manifest) that list files decide
  alone; documents that name only the binary join them otherwise;
- a load whose SHA-256 one deciding document lists while another lists its
  path with another SHA-256 is ``unverifiable``, naming both.

Within the deciding documents, with ``evidence`` the best of theirs:

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
from claw_ta.sbom.precedence import FILES as _FILES, Doc, make_pools, platform_parts
from claw_ta.sbom.liblists import SHA256_LABEL as _SUBJECT_LABEL, Libraries, MappedLibraries, quick_normal
from claw_ta.sbom.schema import (LEGACY_SUBJECT_COLUMNS, LIBRARY_COLUMNS, LIBRARY_KEY, SUBJECT_COLUMNS,
                                 SUBJECT_KEY)
from claw_ta.sbom.sortedcsv import SortedTable, read_header

# sbom_ref is the deciding document's identity (its content digest), sbom_name its name for humans,
# sbom_trust/sbom_signer who vouched for it.
STATUS_FIELDS = ("sbom_status", "sbom_match", "sbom_ref", "sbom_reason", "sbom_trust", "sbom_signer",
                 "sbom_name")
EMPTY = ("", "", "", "", "", "", "")
CACHE_SIZE = 50000       # verdicts per generation (two generations are kept: hot keys survive)
# Bytes of library lists held (their lines, copied from the table): beyond this the lists, and the
# sets of documents that hold them, are dropped and read again from the table when needed.
LIST_BYTES = 64 << 20
PREFETCH_MIN = 8         # new subjects (documents) in a chunk from which they are read in one pass
_RANK = {"unlisted": 0, "unverifiable": 1, "no_sbom": 2, "listed": 3}
_EVIDENCE = ("files_sha256", "files_path", "packages", "none")
_TRUST = ("verified", "channel", "untrusted")
NO_SBOM = ("no_sbom", "", "", "no SBOM or in-toto link lists this binary or its image", "", "", "")


class SbomIndex(object):
    """The SBOM tables, read as events need them; :meth:`check_values` decides.

    ``subjects``/``libraries`` are tables with ``rows(key)`` (SortedTable, or
    in memory for the replay). ``rejected`` counts index rows refused as
    malformed (a digest that is not SHA-256, an unknown evidence or trust level).
    """

    def __init__(self, subjects=None, libraries=None):
        self._subjects_table = subjects
        self._libraries_table = libraries
        self._subjects = {}   # hex -> [_Doc]
        self._libraries = {}  # sbom_id -> Libraries / MappedLibraries (LIST_BYTES at most)
        self._list_bytes = 0
        self._pools = {}      # (subject hex, image hex, platform) -> [pool]
        self._digests = {}    # digest string -> ("sha256:<hex>" or None, algorithm note)
        self._paths = {}      # path string -> normalized path or ""
        self._hexes = {}      # subject/image digest string -> hex or ""
        self._platforms = {}  # platform string -> (os, arch, variant) or None
        self._by_strings = {}  # (subject, image, platform) strings as events spell them -> pools
        self._hot = {}
        self._cold = {}
        self._rejected = 0
        self._refused = {}    # sbom_id -> library rows refused (counted once, whatever is reloaded)
        self._malformed = set()

    # --- building -------------------------------------------------------------

    @classmethod
    def load(cls, subjects_path, libraries_path):
        """Index over the two lookup files (either may be None: an empty table).

        A subjects table without the trust columns (written by an older
        version) is read as ``channel`` documents named by their ``sbom_ref``.
        """
        subjects = None
        if subjects_path:
            header = read_header(subjects_path)
            columns = SUBJECT_COLUMNS if not header or all(c in header for c in SUBJECT_COLUMNS) \
                else LEGACY_SUBJECT_COLUMNS
            subjects = SortedTable(subjects_path, columns, SUBJECT_KEY)
        libraries = SortedTable(libraries_path, LIBRARY_COLUMNS, LIBRARY_KEY) if libraries_path else None
        return cls(subjects, libraries)

    @classmethod
    def from_tables(cls, tables):
        subjects, libraries = _MemoryTable(), _MemoryTable()
        for row in tables.subject_rows():
            if "sbom_trust" in row:
                values = [row.get(c, "") for c in SUBJECT_COLUMNS]
            else:  # a row of a table written before trust levels (a replay's lookups/ override)
                values = [row.get(c, "") for c in LEGACY_SUBJECT_COLUMNS]
            subjects.setdefault(row["subject_digest"], []).append(values)
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

    def decide(self, event_type, subject_digest, image_digest, library_path, library_digest, platform=""):
        """:meth:`check_values` for single values, without its cache (the caller caches)."""
        if event_type != "library_load":
            return EMPTY
        return self._decide(subject_digest or "", image_digest or "", library_path or "", library_digest or "",
                            platform or "")

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
                evidence, sbom_id, ref, platforms = row[2], row[3], row[4], row[6]
                if len(row) > 7:
                    name, trust, signer, reason, names = row[7], row[8], row[9], row[10], row[11]
                else:  # a table written before trust levels
                    name, trust, signer, reason, names = ref, "channel", "", "", ""
                if evidence not in _EVIDENCE or trust not in _TRUST:
                    self._rejected += 1
                    continue
                names = names.split()
                children = []
                for n, label in enumerate(platforms.split()):
                    child = normalize_digest(label)
                    if child:
                        children.append((child, platform_parts(names[n]) if n < len(names) else None))
                    else:
                        self._rejected += 1
                found.append(Doc(evidence, sbom_id, ref, tuple(children), trust, signer, name or ref, reason))
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

    def prefetch(self, digests):
        """Read what the subject/image ``digests`` (strings as events spell them) need, not yet read,
        in one sorted pass per table (SortedTable.prefetch): their subjects rows, their platform
        manifests' rows, their documents' lists. Called with a chunk's digests before its records are
        decided; a handful of new subjects is left to the reads one by one."""
        subjects, libraries = self._subjects_table, self._libraries_table
        if not hasattr(subjects, "prefetch"):
            return
        hexes = set(h for h in map(self._hex, digests) if h and h not in self._subjects)
        if len(hexes) < PREFETCH_MIN:
            return
        ids = set()
        while hexes:  # the digests, then the platform manifests their index rows name
            subjects.prefetch("sha256:" + h for h in hexes)
            children = set()
            for h in hexes:
                for entry in self._subject(h):  # (evidence, sbom_id, ref, platform manifests, ...)
                    if getattr(entry, "trust", "") == "untrusted":
                        continue  # never decides: neither its list nor its platform manifests are read
                    ids.add(entry.sbom_id if hasattr(entry, "sbom_id") else entry[1])
                    kids = entry.children if hasattr(entry, "children") else entry[3]
                    children.update(c[0] if isinstance(c, tuple) else c for c in kids)
            hexes = set(c for c in children if c not in self._subjects)
        ids = [i for i in ids if i and i not in self._libraries]
        if len(ids) >= PREFETCH_MIN and hasattr(libraries, "prefetch"):
            libraries.prefetch(ids)

    def _drop_lists(self):
        """Forget the lists read so far and every set of documents that holds them (memory bound)."""
        self._libraries.clear()
        self._pools.clear()
        self._by_strings.clear()
        self._list_bytes = 0

    def _pool_list(self, subject_hex, image_hex, platform=None):
        key = (subject_hex, image_hex, platform)
        pools = self._pools.get(key)
        if pools is None:
            pools = _remember(self._pools, key, self._make_pools(subject_hex, image_hex, platform))
        return pools

    def _make_pools(self, subject_hex, image_hex, platform):
        return make_pools(self._subject, self._library_list, subject_hex, image_hex, platform)

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

    def _platform(self, value):
        if not value:
            return None
        found = self._platforms.get(value, False)
        if found is False:
            found = _remember(self._platforms, value, platform_parts(value.split()[0] if value.split() else ""))
        return found

    # --- checking -------------------------------------------------------------

    def check(self, record):
        """``STATUS_FIELDS`` for an event dict (multivalue: lists)."""
        def first(value):
            return (value[0] if value else None) if isinstance(value, (list, tuple)) else value
        return dict(zip(STATUS_FIELDS, self.check_values(
            first(record.get("event_type")), first(record.get("subject_digest")),
            first(record.get("image_digest")), record.get("library_path"), record.get("library_digest"),
            first(record.get("claw_node_platform")))))

    def check_values(self, event_type, subject_digest, image_digest, library_path, library_digest, platform=""):
        """STATUS_FIELDS values; path and digest may be lists (every value is checked)."""
        if event_type != "library_load":
            return EMPTY
        if isinstance(library_path, (list, tuple)) or isinstance(library_digest, (list, tuple)):
            return self._check_many(subject_digest, image_digest, library_path, library_digest, platform)
        key = (subject_digest, image_digest, library_path, library_digest, platform)
        found = self._hot.get(key)
        if found is None:
            found = self._cold.get(key)
            if found is None:
                found = self._decide(subject_digest or "", image_digest or "", library_path or "",
                                     library_digest or "", platform or "")
            if len(self._hot) >= CACHE_SIZE:
                self._cold = self._hot
                self._hot = {}
            self._hot[key] = found
        return found

    def _check_many(self, subject_digest, image_digest, paths, digests, platform):
        paths = list(paths) if isinstance(paths, (list, tuple)) else [paths]
        digests = list(digests) if isinstance(digests, (list, tuple)) else [digests]
        if len(paths) == len(digests):
            pairs = list(zip(paths, digests))
        else:  # values that cannot be paired: each path without a digest, each digest without a path
            pairs = [(p, None) for p in paths] + [(None, d) for d in digests]
        results = [self.check_values("library_load", subject_digest, image_digest, p, d, platform)
                   for p, d in pairs or [(None, None)]]
        return min(results, key=lambda r: _RANK[r[0]])

    def _decide(self, subject_digest, image_digest, path, digest, platform=""):
        pools = self._by_strings.get((subject_digest, image_digest, platform))
        if pools is None:
            pools = _remember(self._by_strings, (subject_digest, image_digest, platform),
                              self._pool_list(self._hex(subject_digest), self._hex(image_digest),
                                              self._platform(platform)))
        if path in VDSO_NAMES:
            if not any(p[2] for p in pools):
                return _no_sbom(pools)
            source = next(p[2][0] for p in pools if p[2])
            return ("listed", "", source[2], "kernel vDSO: not a file, implicitly allowed") + source[3]
        # the per-string caches read inline: a miss of the verdict cache is mostly these lookups
        raw, note = (self._digests.get(digest) or self._digest(digest)) if digest else (None, "")
        npath = self._paths.get(path) if path else ""
        if npath is None:
            npath = self._path(path)
        if len(pools) == 1:
            pool = pools[0]
            if pool[2] and not pool[3]:  # the usual case: documents, none ignored
                return _rules(pool[0], pool[2], path, npath, raw, note)
            return _verdict(pool, path, npath, raw, note)
        results = [_verdict(pool, path, npath, raw, note) for pool in pools]
        for result in results:
            if result[0] == "listed":
                return result
        if all(r[0] == "unlisted" for r in results):
            return results[0][:3] + ("every platform manifest's SBOM: " + results[0][3],) + results[0][4:]
        if all(r[0] == "no_sbom" for r in results):
            return _no_sbom(pools)
        worst = min((r for r in results if r[0] != "unlisted"), key=lambda r: _RANK[r[0]])
        return ("unverifiable", worst[1], worst[2],
                "image index: not listed for every platform, and a platform cannot decide (%s)" % worst[3]) \
            + worst[4:]


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


def _no_sbom(pools):
    note = next((p[3] for p in pools if p[3]), "")
    if not note:
        return NO_SBOM
    return ("no_sbom", "", "", "no trusted SBOM or in-toto link lists this binary or its image" + note, "", "", "")


def _label(source):
    return "'%s' (%s)" % (source[3][2], source[2][:19])


def _verdict(pool, path, npath, raw, note):
    """STATUS_FIELDS values of one load against one set of documents."""
    evidence, first_ref, pool, ignored = pool
    if not pool:
        return _no_sbom([(evidence, first_ref, pool, ignored)])
    result = _rules(evidence, pool, path, npath, raw, note)
    if ignored:
        result = result[:3] + (result[3] + ignored,) + result[4:]
    return result


def _rules(evidence, pool, path, npath, raw, note):
    first = pool[0]
    if raw is not None:
        for source in pool:
            if source[1].has_digest(raw):
                if npath and len(pool) > 1:
                    for other in pool:
                        if other is not source and other[1].path_sha256(npath) and not other[1].has_digest(raw):
                            return ("unverifiable", "digest", source[2],
                                    "documents disagree about this file: %s lists its SHA-256, %s lists its "
                                    "path with another SHA-256" % (_label(source), _label(other))) + source[3]
                return ("listed", "digest", source[2], "content digest listed") + source[3]
    why_no_digest = "the event has no SHA-256 digest" if not note else \
        "the event's digest is not a canonical SHA-256 (%s)" % note
    unvouched = False  # the path is listed without a SHA-256 where the document lists files with SHA-256
    if npath:
        listed = None
        for source in pool:
            has_sha256 = source[1].path_sha256(npath)
            if has_sha256:
                if raw is not None:
                    return ("unlisted", "path", source[2], "path listed with another SHA-256: swapped library") \
                        + source[3]
                return ("unverifiable", "path", source[2],
                        "the SBOM lists a SHA-256 for this path and %s" % why_no_digest) + source[3]
            # a path listed without a SHA-256 in a document that lists files with SHA-256 (a symlink,
            # a directory) never vouches for a load whose SHA-256 is not listed
            if has_sha256 is not None and raw is not None and source[0] == "files_sha256":
                unvouched = True
            elif has_sha256 is not None and listed is None:
                listed = source
        if listed is not None:
            return ("listed", "path", listed[2], "normalized path listed (the SBOM gives no SHA-256 for it)") \
                + listed[3]
    stripped, why_path = digest_only(path) if path and not npath else ("", "the event has no library path")
    if stripped:  # reached through a runtime prefix: its path is no proof, a SHA-256 there still is
        for source in pool:
            has_sha256 = source[1].path_sha256(stripped)
            if has_sha256 and raw is not None:
                return ("unlisted", "path", source[2], "path listed with another SHA-256: swapped library; "
                        + why_path) + source[3]
            if has_sha256 or has_sha256 is not None and not (raw is not None and source[0] == "files_sha256"):
                return ("unverifiable", "path", source[2], "the path is listed but " + why_path + "; " +
                        (why_no_digest if raw is None else "the SBOM gives no SHA-256 for it")) + source[3]
    if evidence in _FILES:
        if unvouched:
            return ("unlisted", "", first[2], "SHA-256 not listed, and the path is listed without a SHA-256 by an "
                    "SBOM that lists files with SHA-256 (a symlink or folder entry vouches for no content)") + first[3]
        if npath or stripped:
            odd = odd_characters(path)
            return ("unlisted", "", first[2], "neither the digest nor the path is listed by an SBOM that lists files"
                    + ("" if not odd else " (the name holds %s)" % odd)) + first[3]
        if path:  # an odd, fileless or deleted name where files are listed: listed only by its digest
            return ("unlisted", "", first[2], ("SHA-256 not listed by an SBOM that lists files; " if raw is not None
                                               else "no SHA-256 to match on where the SBOM lists files; ")
                    + why_path) + first[3]
        if raw is not None and evidence == "files_sha256":
            return ("unlisted", "", first[2], "SHA-256 not listed by an SBOM that lists files with SHA-256; "
                    + why_path) + first[3]
        return ("unverifiable", "", first[2], why_path + ("" if raw is not None else "; " + why_no_digest)) \
            + first[3]
    if evidence == "packages":
        if npath:
            for key in soname_keys(npath):
                for source in pool:
                    if key in source[1].packages and in_library_dirs(npath, source[1].families):
                        return ("listed", "package", source[2],
                                "soname of a listed package in a standard library directory of its distribution "
                                "(the SBOM lists packages only: lower confidence)") + source[3]
        return ("unverifiable", "", first[2],
                "the SBOM lists packages only: it cannot tell this file from a foreign one"
                + ("" if npath or not path else " (%s)" % why_path)) + first[3]
    return ("unverifiable", "", first[2], "the SBOM lists nothing a library can be matched on") + first[3]
