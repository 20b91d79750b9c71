#!/usr/bin/env python
"""clawsbomindex: turns indexed SBOM documents (sourcetype claw:sbom) into the SBOM index tables.

Syntax:
    clawsbomindex [raw_field=<field>] [name_field=<field>] [channel_index=<index>] [merge=<bool>]
                  [channel_sourcetype=<sourcetype>] [require_signatures=<bool>]

Description:
    Reads one SBOM document per event (CycloneDX JSON/XML, SPDX JSON, in-toto
    link or statement, DSSE envelope, SPDX 3 JSON-LD, OCI image index) from
    _raw and outputs the rows of both SBOM tables, each sorted, the same rows
    `claw-ta sbom-index` writes for the same files: claw_table="subjects"
    rows (subject_digest, subject_kind, evidence, sbom_id, sbom_ref,
    sbom_format, platform_digests) for claw_sbom_subjects.csv, then
    claw_table="libraries" rows (sbom_id, library_path, library_digest,
    package_name, package_version, purl) for claw_sbom_libraries.csv (the
    saved search "Claw - Rebuild SBOM Library Index" writes both with
    appendpipe and outputlookup). A document that cannot be indexed is reported
    as a warning naming it (its source) with the reason; the others are still
    indexed. A reporting (transforming) command without a map phase: it runs
    on the search head and sees every document before it writes the index.
    Trust (docs/sbom.md "Trust and precedence"): a document is "channel" only
    when its event's index is channel_index and its sourcetype
    channel_sourcetype (the site's dedicated SBOM index: never the runtime
    events' index, whose HEC token every node holds); any other document is
    "untrusted" (indexed and reported, never deciding a verdict). This command
    verifies no signature: with require_signatures=true every document is
    "untrusted" here (build the tables with `claw-ta sbom-index`, which does).
    raw_field: field holding the document (default _raw).
    name_field: field naming it when the document has no id of its own
    (default source; its base name is used).
    channel_index / channel_sourcetype: the declared SBOM source (default
    claw_sbom / claw:sbom; the saved search passes the macros
    claw_sbom_index and claw_require_signatures).
    merge: true to keep the previous tables' documents (lookups/<subjects_lookup>.csv
    and lookups/<sbom_lookup>.csv of this app): a document that arrived supersedes
    the same document (sbom_name) about the same subject when it is trusted at
    least as much (claw_ta/sbom/merge.py), the others stay until the site removes them
    in lookups/<removed_lookup>.csv (sbom_ref, subject_digest); when nothing
    changed no rows are output (the tables are not rewritten). Default false:
    the tables are the documents of this search only.

Example:
    `claw_runtime_sbom_index` | clawsbomindex channel_index=claw_sbom | where claw_table="subjects"
    | stats count by evidence, sbom_trust
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from claw_ta.sdk import use_splunklib  # noqa: E402

use_splunklib()  # bin/sdk/<this Python's copy> on sys.path (claw_ta/sdk.py)

import csv  # noqa: E402

from claw_ta import LOOKUPS_DIR  # noqa: E402
from claw_ta.sbom.index import LIBRARY_COLUMNS, SUBJECT_COLUMNS, Tables  # noqa: E402
from claw_ta.sbom.model import CHANNEL_REASON  # noqa: E402
from claw_ta.sbom.merge import merge_previous  # noqa: E402
from claw_ta.sbom.schema import lookup_path  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration, Option, ReportingCommand, dispatch, validators)

# One event is one whole document: far beyond csv's default 128 KiB field limit.
csv.field_size_limit(2 ** 31 - 1)
MAX_WARNINGS = 50
FIELDS = ("claw_table",) + SUBJECT_COLUMNS + tuple(c for c in LIBRARY_COLUMNS if c not in SUBJECT_COLUMNS)


@Configuration(requires_preop=False, run_in_preview=False)
class ClawSbomIndexCommand(ReportingCommand):
    raw_field = Option(
        doc="**Syntax:** raw_field=<field> **Description:** field holding the SBOM document (default _raw)",
        default="_raw", validate=validators.Fieldname())
    name_field = Option(
        doc="**Syntax:** name_field=<field> **Description:** field naming the document (default source)",
        default="source", validate=validators.Fieldname())
    channel_index = Option(
        doc="**Syntax:** channel_index=<index> **Description:** the dedicated SBOM index whose documents "
            "are channel (default claw_sbom); documents from any other index are untrusted",
        default="claw_sbom", validate=validators.Match("index name", r"^[A-Za-z0-9_][A-Za-z0-9_-]*$"))
    channel_sourcetype = Option(
        doc="**Syntax:** channel_sourcetype=<sourcetype> **Description:** the SBOM sourcetype of that index "
            "(default claw:sbom)",
        default="claw:sbom", validate=validators.Match("sourcetype", r"^[A-Za-z0-9_:.-]+$"))
    require_signatures = Option(
        doc="**Syntax:** require_signatures=<bool> **Description:** the site requires signed documents: "
            "every document is untrusted here, since this command verifies no signature (default false)",
        default=False, validate=validators.Boolean())

    merge = Option(
        doc="**Syntax:** merge=<bool> **Description:** keep the previous tables' documents until superseded "
            "or removed by the site (default false)",
        default=False, validate=validators.Boolean())
    subjects_lookup = Option(
        doc="**Syntax:** subjects_lookup=<name> **Description:** the previous subjects table with merge=true "
            "(default claw_sbom_subjects)", default="claw_sbom_subjects")
    sbom_lookup = Option(
        doc="**Syntax:** sbom_lookup=<name> **Description:** the previous libraries table with merge=true "
            "(default claw_sbom_libraries)", default="claw_sbom_libraries")
    removed_lookup = Option(
        doc="**Syntax:** removed_lookup=<name> **Description:** documents (sbom_ref) and subjects "
            "(subject_digest) the site removed, with merge=true (default claw_sbom_removed)",
        default="claw_sbom_removed")

    def prepare(self):
        # No streaming_preop: a map phase on the indexers would see only part
        # of the documents (and ReportingCommand.prepare would request one).
        if self.phase != "reduce":
            self.write_error("clawsbomindex: phase=%s: this command has only a reduce phase" % self.phase)
            sys.exit(1)
        self._tables = Tables()
        self._documents = 0
        self._skipped = 0
        self._untrusted = 0

    def reduce(self, records):
        # splunkd sends the events in chunks; rows go out once, with the last chunk.
        for record in records:
            text = record.get(self.raw_field)
            if isinstance(text, list):
                text = "\n".join(text)
            name = record.get(self.name_field) or "event"
            if isinstance(name, list):
                name = name[0]
            name = os.path.basename(str(name).replace("\\", "/")) or str(name)
            self._documents += 1
            if not text:
                self._warn(name, "event has no %s" % self.raw_field)
                continue
            verdict = self._trust(record)
            for doc_name, reason in self._tables.add_text(text, name, lambda path, raw, doc: verdict):
                self._warn(doc_name, reason)
        if not self._finished:
            return
        tables, self._tables = self._tables, None
        if self.merge:
            try:
                merged = merge_previous(tables, *(lookup_path(name, LOOKUPS_DIR) for name in (
                    self.subjects_lookup, self.sbom_lookup, self.removed_lookup)))
            except (ValueError, OSError, csv.Error) as error:  # a lookup name with a path in it, a bad file
                tables.close()
                self.write_error("clawsbomindex: merge=true: cannot read the previous tables: %s (the tables "
                                 "are left as they are)" % error)
                return
            if not merged.changed:
                tables.close()
                self.write_info("clawsbomindex: tables unchanged (%d subject rows already indexed, %d kept): no "
                                "rows, the lookups are not rewritten" % (merged.unchanged, merged.kept))
                return
            self.write_info("clawsbomindex: merged with the previous tables: %d subject rows kept, %d superseded, "
                            "%d subject rows removed by the site" % (merged.kept, merged.replaced, merged.removed))
        for doc_name, warning in tables.warnings[:MAX_WARNINGS]:
            self.write_warning("clawsbomindex: %s: %s" % (doc_name, warning))
        if self._skipped > MAX_WARNINGS:
            self.write_warning("clawsbomindex: %d more documents skipped" % (self._skipped - MAX_WARNINGS))
        if not tables.documents:
            self.write_warning("clawsbomindex: no index rows from %d SBOM documents" % self._documents)
        if self._untrusted:
            self.write_warning("clawsbomindex: %d of %d SBOM events indexed as untrusted (reported, never "
                               "deciding a verdict): %s" % (
                                   self._untrusted, self._documents,
                                   "signatures are required and this command verifies none"
                                   if self.require_signatures else "not from index=%s sourcetype=%s" % (
                                       self.channel_index, self.channel_sourcetype)))
        blank = dict.fromkeys(FIELDS, "")
        try:
            for table, rows in (("subjects", tables.subject_rows()), ("libraries", tables.library_rows())):
                for row in rows:
                    record = dict(blank)
                    record.update(row)
                    record["claw_table"] = table
                    yield record
        finally:
            tables.close()

    def _trust(self, record):
        """(trust, signer, reason) of every document of one event: where it was indexed decides."""
        def first(value):
            return str((value[0] if value else "") if isinstance(value, list) else (value or ""))
        index, sourcetype = first(record.get("index")), first(record.get("sourcetype"))
        if index.lower() != self.channel_index.lower() or sourcetype != self.channel_sourcetype:
            self._untrusted += 1
            return ("untrusted", "", "not from the declared SBOM source (index=%s sourcetype=%s; declared: "
                    "index=%s sourcetype=%s)" % (index or "?", sourcetype or "?", self.channel_index,
                                                  self.channel_sourcetype))
        if self.require_signatures:
            self._untrusted += 1
            return ("untrusted", "", "the site requires signatures and the in-Splunk rebuild verifies none: "
                    "build the tables with claw-ta sbom-index")
        return ("channel", "", CHANNEL_REASON)

    def _warn(self, name, reason):
        self._skipped += 1
        if self._skipped <= MAX_WARNINGS:
            self.write_warning("clawsbomindex: skipped SBOM %s: %s" % (name, reason))


dispatch(ClawSbomIndexCommand, sys.argv, sys.stdin, sys.stdout, __name__)
