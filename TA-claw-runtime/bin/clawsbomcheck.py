#!/usr/bin/env python
"""clawsbomcheck: checks library loads against the SBOMs and in-toto links of their binary.

Syntax:
    clawsbomcheck [sbom_lookup=<name>] [subjects_lookup=<name>] [path_field=<field>]
                  [digest_field=<field>]

Description:
    For every library_load event, finds the SBOMs / in-toto links whose
    subject is the event's subject_digest (the binary) or image_digest (the
    image; an image index digest stands for its platform manifests) in the
    tables built by `claw-ta sbom-index` or the "Claw - Rebuild SBOM Library
    Index" saved search, and adds sbom_status (listed, unlisted, no_sbom,
    unverifiable), sbom_match (digest, path, package or empty), sbom_ref (the
    content digest of the document that decided), sbom_reason, sbom_trust
    (verified or channel: who vouched for that document), sbom_signer and
    sbom_name (the document's name for humans). Untrusted documents never
    decide (the reason counts them); a file list of the image outranks
    documents that name only the binary, a verified list outranks a channel
    one; where claw_node_platform (linux/arm64) is set, a load under an image
    index is checked against that platform's SBOM. The verdict follows from
    what the SBOM can speak to (files with SHA-256, files by path, packages
    only): docs/sbom.md has the rules. A multivalue library path/digest:
    every value is checked, the worst verdict wins. Other events pass through
    untouched. No record is dropped, reordered or duplicated. Distributable
    streaming: runs on indexers and reads the tables from the app's lookups/
    folder (bundle replication), in place (only the subjects the events name).
    A table that does not exist yet is empty (a warning says so).
    sbom_lookup: the libraries table (default claw_sbom_libraries).
    subjects_lookup: the subjects table (default claw_sbom_subjects).
    path_field / digest_field: fields holding the loaded library's path and
    sha256 (default library_path / library_digest).

Example:
    `claw_runtime_index` event_type=library_load | clawsbomcheck | search sbom_status=unlisted
"""
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from claw_ta.sdk import use_splunklib  # noqa: E402

use_splunklib()  # bin/sdk/<this Python's copy> on sys.path (claw_ta/sdk.py)

from claw_ta import LOOKUPS_DIR  # noqa: E402
from claw_ta.sbom.matcher import STATUS_FIELDS, SbomIndex  # noqa: E402
from claw_ta.scp import execute_chunks  # noqa: E402
from claw_ta.sbom.schema import lookup_path  # noqa: E402
from claw_ta.sbom.stream import Annotator, Sink  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration, Option, StreamingCommand, dispatch, validators)

_INDEXES = {}  # (subjects file, libraries file) -> (their (mtime, size), SbomIndex): once per process
BUILD_HINT = "build them with `claw-ta sbom-index` or the saved search 'Claw - Rebuild SBOM Library Index'"


class LookupName(validators.Validator):
    """A lookup name in the app's lookups/ folder: no path separators, no '..'."""

    def __call__(self, value):
        if value is None:
            return None
        lookup_path(str(value), LOOKUPS_DIR)  # raises ValueError for a hostile name
        return str(value)

    def format(self, value):
        return "" if value is None else str(value)


def _stat(path):
    try:
        stat = os.stat(path)
        return (stat.st_mtime, stat.st_size)
    except OSError:
        return None


def load_index(subjects_path, libraries_path):
    """(SbomIndex, names of the missing tables); a missing table is an empty one."""
    stamps = (_stat(subjects_path), _stat(libraries_path))
    missing = [os.path.basename(p) for p, s in zip((subjects_path, libraries_path), stamps) if s is None]
    cached = _INDEXES.get((subjects_path, libraries_path))
    if cached and cached[0] == stamps:
        return cached[1], missing
    index = SbomIndex.load(subjects_path if stamps[0] else None, libraries_path if stamps[1] else None)
    _INDEXES[(subjects_path, libraries_path)] = (stamps, index)
    return index, missing


@Configuration(distributed=True)
class ClawSbomCheckCommand(StreamingCommand):
    sbom_lookup = Option(
        doc="**Syntax:** sbom_lookup=<name> **Description:** the libraries table in the app's "
            "lookups/ (default claw_sbom_libraries)",
        default="claw_sbom_libraries", validate=LookupName())
    subjects_lookup = Option(
        doc="**Syntax:** subjects_lookup=<name> **Description:** the subjects table in the app's "
            "lookups/ (default claw_sbom_subjects)",
        default="claw_sbom_subjects", validate=LookupName())
    path_field = Option(
        doc="**Syntax:** path_field=<field> **Description:** field with the loaded library's path",
        default="library_path", validate=validators.Fieldname())
    digest_field = Option(
        doc="**Syntax:** digest_field=<field> **Description:** field with the loaded library's sha256",
        default="library_digest", validate=validators.Fieldname())

    index = None
    annotator = None

    def prepare(self):
        subjects = lookup_path(self.subjects_lookup, LOOKUPS_DIR)
        libraries = lookup_path(self.sbom_lookup, LOOKUPS_DIR)
        try:
            self.index, missing = load_index(subjects, libraries)
        except (ValueError, OSError) as error:
            self.write_error("clawsbomcheck: sbom_lookup=%s subjects_lookup=%s: cannot read the SBOM "
                             "tables: %s; %s" % (self.sbom_lookup, self.subjects_lookup, error, BUILD_HINT))
            sys.exit(1)
        if missing:
            self.write_warning("clawsbomcheck: SBOM table(s) %s not built yet: treated as empty, every "
                               "library_load is no_sbom; %s" % (", ".join("lookups/" + m for m in missing),
                                                                BUILD_HINT))
        for reason in self.index.eager_reasons:
            self.write_warning("clawsbomcheck: an SBOM table is read whole (slower start-up): %s; "
                               "rebuild it with `claw-ta sbom-index` or the rebuild search" % reason)
        self.annotator = Annotator(self.index.check_values, self.path_field, self.digest_field,
                                   decide=self.index.decide, prefetch=self.index.prefetch)

    def _execute_v2(self, ifile, process):
        # Fast path (SCP v2), replacing splunklib's record loop for this command
        # only (claw_ta.sbom.stream), then sent as one chunk through the record
        # writer (its inspector messages, counters). claw_ta.scp marks the
        # writer unflushed before each chunk, as splunklib does: if a chunk
        # fails, splunklib's error handling sends the ERROR message.
        writer = self._record_writer
        for _, data in execute_chunks(self, ifile):
            rejected, nuls = self.index.rejected, self.annotator.nuls
            sink = Sink()
            count = self.annotator.chunk(io.BytesIO(data), len(data), sink)
            del data
            sink.flush()
            if self.annotator.nuls > nuls:
                self.write_warning("clawsbomcheck: %d record(s) had NUL bytes, replaced with U+FFFD "
                                   "(records kept)" % (self.annotator.nuls - nuls))
            if self.index.rejected > rejected:
                self.write_warning("clawsbomcheck: %d malformed SBOM table row(s) ignored (a digest that "
                                   "is not SHA-256, an unknown evidence level); rebuild the tables"
                                   % (self.index.rejected - rejected))
            self._send(writer, count, sink, self._finished)
            self.index.release()

    @staticmethod
    def _send(writer, count, body, finished):
        reply = {"finished": bool(finished)}
        if writer._inspector:
            reply = {"inspector": writer._inspector, "finished": bool(finished)}
        meta = json.dumps(reply, separators=(",", ":")).encode("utf-8")
        ofile = writer.ofile
        ofile.write(("chunked 1.0,%d,%d\n" % (len(meta), body.length)).encode("ascii"))
        ofile.write(meta)
        body.write_to(ofile)
        ofile.flush()
        writer._inspector.clear()
        writer._committed_record_count += count
        writer._chunk_count += 1
        writer.is_flushed = True

    def stream(self, records):
        # SCP v1 path (and reference semantics for the fast path above).
        check = self.index.check_values
        for record in records:
            values = [record.get(name) for name in ("event_type", "subject_digest", "image_digest",
                                                    self.path_field, self.digest_field, "claw_node_platform")]
            values[:3] = [(v[0] if v else None) if isinstance(v, (list, tuple)) else v for v in values[:3]]
            if isinstance(values[5], (list, tuple)):
                values[5] = values[5][0] if values[5] else None
            if values[0] == "library_load":
                record.update(zip(STATUS_FIELDS, check(*values)))
            yield record


dispatch(ClawSbomCheckCommand, sys.argv, sys.stdin, sys.stdout, __name__)
