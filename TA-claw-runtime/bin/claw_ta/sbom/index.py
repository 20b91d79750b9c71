"""The SBOM index: parsed documents -> two sorted lookup tables.

``claw_sbom_subjects.csv``: one row per (subject digest, document): what the
digest is (``subject_kind``), what the document can speak to (``evidence``),
the document (``sbom_ref``: its content digest, its identity; ``sbom_name``:
its name for humans; ``sbom_format``), who vouches for it (``sbom_trust``,
``sbom_signer``, ``sbom_trust_reason``), its library list (``sbom_id``), and
for an image index the platform manifests it stands for (``platform_digests``,
space separated, and their platforms ``platform_names``, ``-`` where unknown).

``claw_sbom_libraries.csv``: one row per (library list, library): a
document's libraries are stored once, under ``sbom_id`` (a hash of the list),
however many subjects point at it; identical lists are stored once.

Both files are sorted by their first column and hold one record per line, so
``| clawsbomcheck`` binary-searches them in place (claw_ta.sbom.sortedcsv)
instead of reading them. ``claw-ta sbom-index`` and ``| clawsbomindex`` build
them through :class:`Tables`, whose memory is bounded (sorted runs spill to
temporary files and are merged).
"""
import csv
import hashlib
import heapq
import json
import os
import re
import tempfile

from claw_ta.sbom.model import CHANNEL_REASON, MAX_BYTES, TRUST_LEVELS, Entry, SbomDocument, SbomError
from claw_ta.sbom.parse import SUFFIXES, discover, parse_text, read_file  # noqa: F401 (re-exported)
from claw_ta.sbom.paths import digest_label, normalize_digest, normalize_path
from claw_ta.sbom.schema import (COLUMNS, LIBRARY_COLUMNS, LOOKUP_FILE, SUBJECT_COLUMNS,  # noqa: F401
                               SUBJECTS_FILE, lookup_path)

SPILL_LINES = 200000   # lines held in memory per table before a sorted run goes to disk
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _field(value):
    value = _CONTROL.sub(" ", value or "")  # one record per line, always
    if "," in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _line(values):
    return ",".join(_field(v) for v in values) + "\n"


class SortedLines(object):
    """CSV lines kept sorted and deduplicated with bounded memory (sorted runs on disk)."""

    def __init__(self, spill=SPILL_LINES):
        self._lines = []
        self._runs = []
        self._spill = spill

    def add(self, line):
        self._lines.append(line)
        if len(self._lines) >= self._spill:
            try:
                run = tempfile.TemporaryFile("w+", encoding="utf-8", newline="")
            except OSError:  # no writable temporary folder: keep the lines in memory
                self._spill = float("inf")
                return
            self._lines.sort()
            run.writelines(self._lines)
            self._runs.append(run)
            self._lines = []

    def __iter__(self):
        self._lines.sort()
        for run in self._runs:
            run.seek(0)
        previous = None
        for line in heapq.merge(iter(self._lines), *self._runs):
            if line != previous:
                yield line
                previous = line

    def close(self):
        for run in self._runs:
            run.close()
        self._runs, self._lines = [], []


def library_values(entry):
    """The LIBRARY_COLUMNS values (without sbom_id) of one entry, or None if it gives nothing."""
    path = normalize_path(entry.path) if entry.path else ""
    digest = normalize_digest(entry.sha256)
    if entry.path and not path and not digest:
        return None  # a file the index could never match: unsafe path, no SHA-256
    return (path, digest_label(digest), entry.name, entry.version, entry.purl)


def document_tables(doc):
    """(subject lines, library lines) of one parsed document; SbomError if it gives none."""
    if not doc.subjects:
        raise SbomError("no SHA-256 subject digest (%s subject without a sha256 hash); "
                        "it cannot be tied to any event" % doc.format)
    if not doc.entries and not doc.children:
        raise SbomError("lists no libraries (%d components without a path, digest or name)"
                        % doc.components)
    libraries = sorted(set(_line(v)[:-1] for v in map(library_values, doc.entries) if v is not None))
    sbom_id = ""
    if libraries:  # the hash of the lines joined by "\n", without a copy of them all (memory)
        digest = hashlib.sha256(libraries[0].encode("utf-8"))
        for line in libraries[1:]:
            digest.update(b"\n" + line.encode("utf-8"))
        sbom_id = digest.hexdigest()[:24]
    platforms = " ".join(digest_label(c) for c in doc.children)
    names = " ".join(_platform_token(doc.child_platforms.get(c)) for c in doc.children)
    trust = doc.trust if doc.trust in TRUST_LEVELS else "untrusted"
    reason = doc.trust_reason or (CHANNEL_REASON if trust == "channel" else trust)
    ref = doc.digest or document_digest(doc)
    subjects = [_line((digest_label(s), doc.subject_kinds.get(s, "unknown"), doc.evidence, sbom_id,
                       ref, doc.format, platforms, doc.ref, trust, doc.signer, reason, names))
                for s in doc.subjects]
    for i, line in enumerate(libraries):  # in place: each line's text once in memory
        libraries[i] = sbom_id + "," + line + "\n"
    return subjects, sbom_id, libraries


def _platform_token(platform):
    """A platform as one token of ``platform_names`` (``-`` where unknown)."""
    platform = "".join(platform.split()) if platform else ""
    return platform if platform and "," not in platform else "-"


def document_digest(doc):
    """The identity of a document built without its text (tests, old joined rows): the SHA-256 of
    what it says, canonically serialized. The index builder sets ``doc.digest`` from the text."""
    content = [doc.format, doc.ref, sorted((s, doc.subject_kinds.get(s, "")) for s in doc.subjects),
               sorted([e.path, e.sha256, e.name, e.version, e.purl, e.kind, e.other_digest] for e in doc.entries),
               doc.children]
    return "sha256:" + hashlib.sha256(json.dumps(content, sort_keys=True).encode("utf-8")).hexdigest()


def text_digest(data):
    """``sha256:<hex>`` of a document's text as read (bytes as given, str as UTF-8)."""
    raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def assessed(assess, path, raw, doc):
    """(trust, signer, reason) from ``assess(path, raw, doc)``; a failing or invalid answer is untrusted."""
    try:
        answer = assess(path, raw, doc)
        trust, signer, reason = answer
    except Exception as error:  # the hook is another module's code: never lose the other documents
        return "untrusted", "", "trust assessment failed: %s: %s" % (type(error).__name__, error)
    if trust not in TRUST_LEVELS:
        return "untrusted", "", "trust assessment gave %r, not one of %s" % (trust, "/".join(TRUST_LEVELS))
    return trust, str(signer or ""), str(reason or "")


class Tables(object):
    """The two tables being built: add documents, then write or read them back sorted."""

    def __init__(self, spill=SPILL_LINES):
        self.subjects = SortedLines(spill)
        self.libraries = SortedLines(spill)
        self.warnings = []   # (document name, message): indexed, but the user should know
        self.documents = 0
        self._ids = set()

    def add(self, doc, name=None):
        subjects, sbom_id, libraries = document_tables(doc)
        for line in subjects:
            self.subjects.add(line)
        if sbom_id not in self._ids:
            self._ids.add(sbom_id)
            for line in libraries:
                self.libraries.add(line)
        for warning in doc.warnings:
            self.warnings.append((name or doc.ref, warning))
        self.documents += 1

    def add_text(self, data, name, assess=None, path=None):
        """Index every document of one text; [(name, reason)] when it was skipped.

        Each document's identity is the SHA-256 of the text (``#<n>`` after it
        for the n-th of several documents, JSON Lines); where a subject comes
        from the file name (an OCI image index named ``sha256-<hex>.json``
        whose bytes hash otherwise), the SHA-256 of that subject and the text's
        identity, so a copy claiming another digest is another document. ``assess(path, data,
        doc) -> (trust, signer, reason)`` sets its trust level (default: the
        document keeps ``channel``); ``path`` defaults to ``name``.
        """
        try:
            docs = parse_text(data, name)
            digest = text_digest(data)
            for number, doc in enumerate(docs, 1):
                doc.digest = digest if len(docs) == 1 else "%s#%d" % (digest, number)
                if doc.name_subject:  # a subject the file name claims is part of what the document says
                    doc.digest = text_digest("%s\n%s" % (doc.name_subject, doc.digest))
                document_tables(doc)  # all or nothing: a bad document skips the text
            for doc in docs:
                if assess is not None:
                    doc.trust, doc.signer, doc.trust_reason = assessed(assess, path or name, data, doc)
                self.add(doc, name)
            return []
        except SbomError as error:
            return [(name, str(error))]
        except (RecursionError, MemoryError) as error:
            return [(name, "too large or too deeply nested to parse (%s)" % type(error).__name__)]
        except Exception as error:  # noqa: BLE001 (one poisoned document never stops the others)
            return [(name, "cannot be indexed (%s: %s)" % (type(error).__name__, ascii(str(error))[1:-1]))]

    def library_ids(self):
        """The library lists (sbom_id) added so far."""
        return set(self._ids)

    def keep_only(self, keep_subject):
        """Keep the subject lines ``keep_subject(line)`` accepts and the library lists they still name
        (claw_ta.sbom.merge drops the documents a site removed)."""
        subjects, libraries = SortedLines(self.subjects._spill), SortedLines(self.libraries._spill)
        ids = set()
        for line in self.subjects:
            if keep_subject(line):
                subjects.add(line)
                ids.add(next(csv.reader([line]))[SUBJECT_COLUMNS.index("sbom_id")])
        for line in self.libraries:
            if line.partition(",")[0] in ids:
                libraries.add(line)
        self.subjects.close()
        self.libraries.close()
        self.subjects, self.libraries = subjects, libraries
        self._ids &= ids

    def subject_rows(self):
        return _dicts(SUBJECT_COLUMNS, self.subjects)

    def library_rows(self):
        return _dicts(LIBRARY_COLUMNS, self.libraries)

    def write(self, subjects_path, libraries_path):
        """Write both tables (header always): each beside its destination first, then both renamed,
        so a failure leaves the previous pair (nothing is half-written)."""
        written = []
        try:
            for path, columns, lines in ((subjects_path, SUBJECT_COLUMNS, self.subjects),
                                         (libraries_path, LIBRARY_COLUMNS, self.libraries)):
                tmp = "%s.%d.tmp" % (path, os.getpid())
                written.append((tmp, path))
                with open(tmp, "w", encoding="utf-8", newline="") as handle:
                    handle.write(",".join(columns) + "\n")
                    handle.writelines(lines)
        except BaseException:
            for tmp, _ in written:
                if os.path.exists(tmp):
                    os.remove(tmp)
            raise
        for tmp, path in written:
            os.replace(tmp, path)

    def close(self):
        self.subjects.close()
        self.libraries.close()


def _dicts(columns, lines):
    for row in csv.reader(lines):  # one record per line (see _field)
        yield dict(zip(columns, row))


def build_tables(paths, max_bytes=MAX_BYTES, spill=SPILL_LINES, assess=None):
    """(Tables, errors) from SBOM files/folders; bad files are reported and skipped.

    ``assess(path, raw_bytes, doc) -> (trust, signer, reason)`` gives each
    document its trust level; without it every document is ``channel`` (a
    folder given to the CLI is a declared source).
    """
    files, errors = discover(paths)
    tables = Tables(spill)
    for path in files:
        name = os.path.basename(path)
        try:
            data = read_file(path, max_bytes)
        except SbomError as error:
            errors.append((name, str(error)))
            continue
        except OSError as error:
            errors.append((name, "cannot read: %s" % error.strerror))
            continue
        errors.extend(tables.add_text(data, name, assess, path))
        del data
    return tables, errors


def joined_rows(tables):
    """The joined view (COLUMNS): one dict per subject and library of its document."""
    libraries = {}
    for row in tables.library_rows():
        libraries.setdefault(row["sbom_id"], []).append(row)
    rows = []
    for subject in tables.subject_rows():
        for library in libraries.get(subject["sbom_id"], ()):
            joined = dict(subject)
            joined.update(library)
            rows.append(dict((c, joined.get(c, "")) for c in COLUMNS))
    return rows


def build_rows(paths, max_bytes=MAX_BYTES):
    """(joined rows, errors) from SBOM files/folders: :func:`build_tables` joined."""
    tables, errors = build_tables(paths, max_bytes)
    return joined_rows(tables), errors


def tables_from_rows(rows):
    """Tables from joined rows (dicts with subject_digest, library columns, sbom_ref; optionally
    sbom_name, sbom_trust, sbom_signer: a row without a trust level is ``channel``)."""
    docs = {}
    for row in rows:
        ref = row.get("sbom_ref") or ""
        doc = docs.get(ref)
        if doc is None:
            doc = docs[ref] = SbomDocument(row.get("sbom_format") or "", row.get("sbom_name") or ref)
            doc.digest = ref if ref.startswith("sha256:") else ""
            doc.trust = row.get("sbom_trust") or "channel"
            doc.signer = row.get("sbom_signer") or ""
        subject = normalize_digest(row.get("subject_digest") or "")
        doc.add_subject(subject, row.get("subject_kind") or "unknown")
        doc.entries.append(Entry(row.get("library_path"), normalize_digest(row.get("library_digest") or ""),
                                 row.get("package_name"), row.get("package_version"), row.get("purl")))
    tables = Tables()
    for doc in docs.values():
        if doc.subjects and doc.entries:
            tables.add(doc)
    return tables
