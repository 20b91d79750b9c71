#!/usr/bin/env python
"""clawsbomindex: turns indexed SBOM documents (sourcetype claw:sbom) into SBOM library index rows.

Syntax:
    clawsbomindex [raw_field=<field>] [name_field=<field>]

Description:
    Reads one SBOM document per event (CycloneDX JSON/XML, SPDX JSON, in-toto
    link or statement, DSSE envelope) from _raw and writes the rows of the
    lookup claw_sbom_libraries.csv (subject_digest, library_path,
    library_digest, package_name, package_version, purl, sbom_format,
    sbom_ref), deduplicated and sorted, the same rows `claw-ta sbom-index`
    writes for the same files. A document that cannot be indexed is reported
    as a warning naming it (its source) with the reason; the others are still
    indexed. A reporting (transforming) command without a map phase: it runs
    on the search head and sees every document before it writes the index.
    raw_field: field holding the document (default _raw).
    name_field: field naming it when the document has no id of its own
    (default source; its base name is used).

Example:
    `claw_runtime_sbom_index` | clawsbomindex | outputlookup claw_sbom_libraries.csv
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import csv  # noqa: E402

from claw_ta.sbom.index import COLUMNS, dedupe, rows_from_text  # noqa: E402
from splunklib.searchcommands import (  # noqa: E402
    Configuration, Option, ReportingCommand, dispatch, validators)

# One event is one whole document: far beyond csv's default 128 KiB field limit.
csv.field_size_limit(2 ** 31 - 1)
MAX_WARNINGS = 50


@Configuration(requires_preop=False, run_in_preview=False)
class ClawSbomIndexCommand(ReportingCommand):
    raw_field = Option(
        doc="**Syntax:** raw_field=<field> **Description:** field holding the SBOM document (default _raw)",
        default="_raw", validate=validators.Fieldname())
    name_field = Option(
        doc="**Syntax:** name_field=<field> **Description:** field naming the document (default source)",
        default="source", validate=validators.Fieldname())

    def prepare(self):
        # No streaming_preop: a map phase on the indexers would see only part
        # of the documents (and ReportingCommand.prepare would request one).
        if self.phase != "reduce":
            self.write_error("clawsbomindex: phase=%s: this command has only a reduce phase" % self.phase)
            sys.exit(1)
        self._rows = []
        self._documents = 0
        self._skipped = 0

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
            rows, errors = rows_from_text(text, name)
            self._rows.extend(rows)
            for doc_name, reason in errors:
                self._warn(doc_name, reason)
        if not self._finished:
            return
        rows = dedupe(self._rows)
        self._rows = []
        if self._skipped > MAX_WARNINGS:
            self.write_warning("clawsbomindex: %d more documents skipped" % (self._skipped - MAX_WARNINGS))
        if not rows:
            self.write_warning("clawsbomindex: no index rows from %d SBOM documents" % self._documents)
        for row in rows:
            yield dict((c, row.get(c, "")) for c in COLUMNS)

    def _warn(self, name, reason):
        self._skipped += 1
        if self._skipped <= MAX_WARNINGS:
            self.write_warning("clawsbomindex: skipped SBOM %s: %s" % (name, reason))


dispatch(ClawSbomIndexCommand, sys.argv, sys.stdin, sys.stdout, __name__)
