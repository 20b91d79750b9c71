#!/usr/bin/env python
"""clawsbomcheck: checks library loads against the SBOMs and in-toto links of their binary.

Syntax:
    clawsbomcheck [sbom_lookup=<name>] [path_field=<field>] [digest_field=<field>]

Description:
    For every library_load event, looks up the SBOMs / in-toto links whose
    subject is the event's subject_digest (the binary) or image_digest (the
    image) in the lookup built by `claw-ta sbom-index` or the "Claw - Rebuild
    SBOM Library Index" saved search, and adds sbom_status (listed, unlisted,
    no_sbom, unverifiable), sbom_match (digest, path, soname or empty),
    sbom_ref (the SBOM document that decided) and sbom_reason. Other events
    pass through untouched. No record is dropped, reordered or duplicated.
    Distributable streaming: runs on indexers and reads the lookup file from
    the app's lookups/ folder (bundle replication), never over REST.
    sbom_lookup: lookup name or file in the app's lookups/ (default claw_sbom_libraries).
    path_field / digest_field: fields holding the loaded library's path and
    sha256 (default library_path / library_digest).

Example:
    `claw_runtime_index` event_type=library_load | clawsbomcheck | search sbom_status=unlisted
"""
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from claw_ta import LOOKUPS_DIR  # noqa: E402
from claw_ta.sbom.index import lookup_path  # noqa: E402
from claw_ta.sbom.matcher import STATUS_FIELDS, SbomIndex  # noqa: E402
from claw_ta.sbom.stream import annotate_stream  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration, Option, StreamingCommand, dispatch, validators)
from splunklib.searchcommands.internals import MetadataDecoder  # noqa: E402

_INDEXES = {}  # lookup file -> (mtime, size, SbomIndex): loaded once per process


class LookupName(validators.Validator):
    """A lookup name in the app's lookups/ folder: no path separators, no '..'."""

    def __call__(self, value):
        if value is None:
            return None
        lookup_path(str(value), LOOKUPS_DIR)  # raises ValueError for a hostile name
        return str(value)

    def format(self, value):
        return "" if value is None else str(value)


def load_index(path):
    stat = os.stat(path)
    cached = _INDEXES.get(path)
    if cached and cached[0] == stat.st_mtime and cached[1] == stat.st_size:
        return cached[2]
    index = SbomIndex.load(path)
    _INDEXES[path] = (stat.st_mtime, stat.st_size, index)
    return index


@Configuration(distributed=True)
class ClawSbomCheckCommand(StreamingCommand):
    sbom_lookup = Option(
        doc="**Syntax:** sbom_lookup=<name> **Description:** lookup in the app's lookups/ "
            "(default claw_sbom_libraries)",
        default="claw_sbom_libraries", validate=LookupName())
    path_field = Option(
        doc="**Syntax:** path_field=<field> **Description:** field with the loaded library's path",
        default="library_path", validate=validators.Fieldname())
    digest_field = Option(
        doc="**Syntax:** digest_field=<field> **Description:** field with the loaded library's sha256",
        default="library_digest", validate=validators.Fieldname())

    index = None

    def prepare(self):
        path = lookup_path(self.sbom_lookup, LOOKUPS_DIR)
        if not os.path.isfile(path):
            self.write_error(
                "clawsbomcheck: sbom_lookup=%s: lookup file lookups/%s not found; build it with "
                "`claw-ta sbom-index` or the saved search 'Claw - Rebuild SBOM Library Index'"
                % (self.sbom_lookup, os.path.basename(path)))
            sys.exit(1)
        try:
            self.index = load_index(path)
        except (ValueError, OSError, UnicodeDecodeError, csv.Error) as error:
            self.write_error("clawsbomcheck: sbom_lookup=%s: cannot read lookups/%s: %s"
                             % (self.sbom_lookup, os.path.basename(path), error))
            sys.exit(1)
        if len(self.index) == 0:
            self.write_warning("clawsbomcheck: lookups/%s is empty: every library_load is no_sbom "
                               "until the SBOM index is built" % os.path.basename(path))

    def _execute_v2(self, ifile, process):
        # Fast path (SCP v2), replacing splunklib's record loop for this command
        # only: each chunk's CSV body is read as a stream with csv.reader and
        # written back with csv.writer (claw_ta.sbom.stream), then sent as one
        # chunk through the record writer (its inspector messages, counters).
        istream = self._as_binary_stream(ifile)
        writer = self._record_writer
        while True:
            header = istream.readline()
            if not header:
                return
            match = self._header.match(header.decode("ascii", "replace"))
            if match is None:
                raise RuntimeError("Failed to parse transport header: %r" % header[:100])
            meta_length, body_length = int(match.group(1)), int(match.group(2))
            metadata = MetadataDecoder().decode(istream.read(meta_length).decode("utf-8"))
            action = getattr(metadata, "action", None)
            if action != "execute":
                raise RuntimeError("Expected execute action, not %s" % action)
            self._finished = getattr(metadata, "finished", False)
            self._metadata.update(metadata)
            count, body = annotate_stream(istream, body_length, self.index.check_values,
                                          self.path_field, self.digest_field)
            self._send(writer, count, body, self._finished)

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
            values = []
            for name in ("event_type", "subject_digest", "image_digest", self.path_field, self.digest_field):
                value = record.get(name)
                if isinstance(value, (list, tuple)):
                    value = value[0] if value else None
                values.append(value)
            if values[0] == "library_load":
                for name, value in zip(STATUS_FIELDS, check(*values)):
                    record[name] = value
            yield record



dispatch(ClawSbomCheckCommand, sys.argv, sys.stdin, sys.stdout, __name__)
