"""The matching rules of ``| clawsbomcheck`` (and of the offline replay).

For a ``library_load`` event, the SBOMs that apply are those whose subject is
the event's ``subject_digest`` (the binary) or ``image_digest`` (an image
SBOM covers every binary in it). In order:

1. none apply: ``no_sbom``;
2. kernel vDSO (``[vdso]``, ``linux-vdso.so.1``): ``listed`` with an empty
   ``sbom_match`` (not a file; never in an SBOM);
3. content digest: the loaded file's sha256 is a listed file's or package's:
   ``listed``/``digest``;
4. a path that cannot be compared by path (``/memfd:...``, ``(deleted)``,
   ``/proc/self/fd/N``): ``unlisted`` if the event has a digest and the SBOM
   lists digests, else ``unverifiable``;
5. normalized path listed: ``listed``/``path``, unless the event's digest and
   the SBOM's digest for that path both exist and differ: ``unlisted``/``path``
   (a swapped library);
6. soname of a package the SBOM lists without files: ``listed``/``soname``
   (lower confidence: the reason says so);
7. otherwise ``unlisted``.
"""
import csv
import io
import re
import sys

from claw_ta.sbom.index import COLUMNS
from claw_ta.sbom.paths import (is_unmatchable, is_vdso, normalize_digest, normalize_path,
                                package_key, soname_keys)

STATUS_FIELDS = ("sbom_status", "sbom_match", "sbom_ref", "sbom_reason")
EMPTY = ("", "", "", "")
CACHE_SIZE = 50000
_NEEDED = ("subject_digest", "library_path", "library_digest", "package_name", "sbom_ref")
# One subject's block of consecutive lines (the index is sorted by subject).
_BLOCK = re.compile(rb"^sha256:([0-9a-fA-F]{64}),[^\n]*\n(?:sha256:\1,[^\n]*\n)*", re.M)


class _Subject(object):
    __slots__ = ("by_digest", "by_path", "packages", "refs", "has_digests")

    def __init__(self):
        self.by_digest = {}   # 32-byte digest -> sbom_ref
        self.by_path = {}     # normalized path -> (sbom_ref, whether a digest is listed for it)
        self.packages = {}    # package stem -> sbom_ref (packages listed without files)
        self.refs = []
        self.has_digests = False


class SbomIndex(object):
    """The lookup in memory: subject digest -> what its SBOMs list.

    :meth:`load` is lazy for lookups in the shape ``claw-ta sbom-index`` and
    ``| clawsbomindex`` write (the COLUMNS header, no quoted fields): one C-level
    scan finds each subject's block of lines, and a block is parsed the first
    time an event needs that subject. Anything else is parsed eagerly with csv.
    """

    def __init__(self):
        self._subjects = {}   # hex digest -> _Subject
        self._blocks = {}     # hex digest -> [(start, stop) of its lines in _data], not parsed yet
        self._data = b""
        self._cache = {}
        self._strings = {}
        self.rows = 0

    def __len__(self):
        return self.rows

    @property
    def subjects(self):
        return len(self._subjects) + len(self._blocks)

    # --- loading --------------------------------------------------------------

    def _intern(self, text):
        return self._strings.setdefault(text, text)

    def add(self, subject_digest, library_path, library_digest, package_name, sbom_ref):
        """Add one lookup row; False (ignored) when its subject digest is not a sha256."""
        subject = normalize_digest(subject_digest)
        if not subject:
            return False
        subj = self._subjects.get(subject)
        if subj is None:
            subj = self._subjects[sys.intern(subject)] = _Subject()
        self._add_entry(subj, library_path, library_digest, package_name, sbom_ref)
        self.rows += 1
        return True

    def _add_entry(self, subj, library_path, library_digest, package_name, sbom_ref):
        ref = self._intern(sbom_ref)
        if ref not in subj.refs:
            subj.refs.append(ref)
        digest = normalize_digest(library_digest)
        raw = self._intern(bytes.fromhex(digest)) if digest else None
        if raw is not None:
            subj.by_digest.setdefault(raw, ref)
            subj.has_digests = True
        if library_path:
            path = library_path if _looks_normal(library_path) else normalize_path(library_path)
            if path:
                path = self._intern(path)
                old = subj.by_path.get(path)
                if old is None:
                    subj.by_path[path] = (ref, raw is not None)
                elif raw is not None and not old[1]:
                    subj.by_path[path] = (old[0], True)
        elif package_name:
            key = package_key(package_name)
            if key:
                subj.packages.setdefault(self._intern(key), ref)

    @classmethod
    def from_rows(cls, rows):
        index = cls()
        for row in rows:
            index.add(row.get("subject_digest") or "", row.get("library_path") or "",
                      row.get("library_digest") or "", row.get("package_name") or "",
                      row.get("sbom_ref") or "")
        return index

    @classmethod
    def load(cls, csv_path):
        """Index of a lookup file; ValueError naming the file if it is not the lookup."""
        with open(csv_path, "rb") as handle:
            data = handle.read()
        index = cls()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        end = data.find(b"\n")
        header_line = data[:end if end >= 0 else len(data)].decode("utf-8").rstrip("\r")
        if not header_line.strip():
            return index  # an empty file is an empty index
        header = next(csv.reader([header_line]))
        missing = [c for c in _NEEDED if c not in header]
        if missing:
            raise ValueError("%s is not an SBOM library lookup: no column %s (expected %s)"
                             % (csv_path, ", ".join(missing), ",".join(COLUMNS)))
        if end < 0:
            return index
        if not data.endswith(b"\n"):
            data += b"\n"
        if tuple(header) == COLUMNS and data.find(b'"', end) < 0 and index._scan(data, end + 1):
            return index
        index._parse_rows(header, csv.reader(io.StringIO(data[end + 1:].decode("utf-8"), newline="")))
        return index

    def _scan(self, data, start):
        """Find each subject's block of lines (lazy mode); False if the file does not fit it."""
        blocks = {}
        covered = 0
        for match in _BLOCK.finditer(data, start):
            first, stop = match.span()
            covered += stop - first
            blocks.setdefault(match.group(1).decode("ascii").lower(), []).append((first, stop))
        if covered != len(data) - start:
            return False  # lines the block pattern does not explain: parse everything
        self._data = data
        self._blocks = blocks
        self.rows = data.count(b"\n", start)
        return True

    def _parse_rows(self, header, reader):
        at = [header.index(c) for c in _NEEDED]
        width = max(at) + 1
        add = self.add
        for row in reader:
            if len(row) >= width:
                add(row[at[0]], row[at[1]], row[at[2]], row[at[3]], row[at[4]])

    def _subject(self, hexdigest):
        subj = self._subjects.get(hexdigest)
        if subj is None:
            lines = self._blocks.pop(hexdigest, None)
            if lines is None:
                return None
            subj = self._subjects[hexdigest] = _Subject()
            add = self._add_entry
            for first, stop in lines:
                text = self._data[first:stop].decode("utf-8", "replace")
                for row in csv.reader(text.splitlines()):
                    if len(row) >= 8:
                        add(subj, row[1], row[2], row[3], row[7])
            if not self._blocks:
                self._data = b""  # every subject parsed: drop the file's bytes
        return subj

    # --- checking -------------------------------------------------------------

    def check(self, record):
        """``{sbom_status, sbom_match, sbom_ref, sbom_reason}`` for a normalized event dict.

        Events that are not ``library_load`` get empty values (left untouched).
        """
        return dict(zip(STATUS_FIELDS, self.check_values(
            record.get("event_type"), record.get("subject_digest"), record.get("image_digest"),
            record.get("library_path"), record.get("library_digest"))))

    def check_values(self, event_type, subject_digest, image_digest, library_path, library_digest):
        """(status, match, ref, reason), memoized: library loads repeat a lot."""
        if event_type != "library_load":
            return EMPTY
        key = (subject_digest, image_digest, library_path, library_digest)
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            found = self._cache[key] = self._decide(*key)
        return found

    def _decide(self, subject_digest, image_digest, library_path, library_digest):
        subjects = []
        for digest in (subject_digest, image_digest):
            subj = self._subject(normalize_digest(digest or ""))
            if subj is not None and subj not in subjects:
                subjects.append(subj)
        if not subjects:
            return ("no_sbom", "", "", "no SBOM or in-toto link lists this binary or its image")
        first_ref = subjects[0].refs[0] if subjects[0].refs else ""
        path = (library_path or "").strip()
        if path and is_vdso(path):
            return ("listed", "", first_ref, "kernel vDSO: not a file, implicitly allowed")
        digest = normalize_digest(library_digest or "")
        raw = bytes.fromhex(digest) if digest else None
        if raw is not None:
            for subj in subjects:
                ref = subj.by_digest.get(raw)
                if ref is not None:
                    return ("listed", "digest", ref, "content digest listed")
        if not path and raw is None:
            return ("unverifiable", "", first_ref, "event has neither library_path nor library_digest")
        if not path or is_unmatchable(path):
            if raw is not None and any(s.has_digests for s in subjects):
                return ("unlisted", "", first_ref,
                        "digest not listed; path %s cannot be matched by path" % ("absent" if not path else "is memfd/deleted/fd"))
            return ("unverifiable", "", first_ref,
                    "path cannot be matched by path (memfd/deleted/fd) and no listed digest to compare")
        npath = normalize_path(path)
        for subj in subjects:
            hit = subj.by_path.get(npath)
            if hit is None:
                continue
            ref, has_digest = hit
            if raw is not None and has_digest:  # step 3 found none of its digests
                return ("unlisted", "path", ref,
                        "path listed with a different digest: swapped library")
            return ("listed", "path", ref, "normalized path listed")
        for key in soname_keys(npath):
            for subj in subjects:
                ref = subj.packages.get(key)
                if ref is not None:
                    return ("listed", "soname", ref,
                            "soname matches a package listed without files (lower confidence)")
        return ("unlisted", "", first_ref, "not listed by digest, path or soname")


def _looks_normal(path):
    """Cheap test that a lookup path is already normalized (skips the regexes on load)."""
    return (path.startswith("/usr/") and "//" not in path and "/." not in path
            and "rootfs" not in path and "snapshots" not in path and "libc.musl" not in path
            and "overlay2" not in path)
