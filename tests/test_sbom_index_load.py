"""The lookup on disk: lazy and eager loading decide alike; the CSV record loop keeps every record."""
import csv
import hashlib
import io
import os

import pytest

from claw_ta.sbom.index import COLUMNS, build_rows, lookup_path, write_csv
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.stream import Sink, annotate, first_value
from tests.paths import DATA


def sha(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def rows():
    found, errors = build_rows([os.path.join(DATA, "sbom")])
    assert errors == []
    return found


def probes(rows):
    """Events for every row: by digest, by path, by a swapped digest, by soname, and misses."""
    events = []
    for row in rows:
        base = {"event_type": "library_load", "subject_digest": row["subject_digest"]}
        events.append(dict(base, library_path=row["library_path"], library_digest=row["library_digest"]))
        events.append(dict(base, library_path=row["library_path"], library_digest=sha("swapped")))
        events.append(dict(base, library_path="/usr/lib/lib%s.so.1" % row["package_name"]))
        events.append(dict(base, library_path="/nowhere/libx.so", library_digest=sha("x")))
    return events


def test_lazy_load_decides_like_from_rows(rows, tmp_path):
    path = str(tmp_path / "claw_sbom_libraries.csv")
    write_csv(rows, path)
    lazy = SbomIndex.load(path)
    assert lazy._blocks and not lazy._subjects  # nothing parsed before an event needs it
    eager = SbomIndex.from_rows(rows)
    assert len(lazy) == len(eager) == len(rows)
    assert lazy.subjects == eager.subjects == 6
    for event in probes(rows):
        assert lazy.check(event) == eager.check(event), event
    assert not lazy._blocks and lazy._data == b""  # all parsed, file bytes dropped


def test_quoted_or_reordered_lookup_falls_back_to_csv_parsing(rows, tmp_path):
    path = str(tmp_path / "edited.csv")
    reordered = list(reversed(COLUMNS))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow(reordered)
        for row in rows:
            writer.writerow([row[c] for c in reordered])
    index = SbomIndex.load(path)
    assert not index._blocks and index.subjects == 6
    eager = SbomIndex.from_rows(rows)
    for event in probes(rows):
        assert index.check(event) == eager.check(event)


def test_unsorted_hand_edited_lookup(rows, tmp_path):
    path = str(tmp_path / "unsorted.csv")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for row in reversed(rows):  # no trailing newline on the last line either
            handle.write(",".join(row[c] for c in COLUMNS) + "\n")
        handle.write("SHA256:" + "A" * 64 + ",/usr/lib/liba.so,,,,,cyclonedx,hand")
    index = SbomIndex.load(path)
    assert index.subjects == 7
    result = index.check({"event_type": "library_load", "subject_digest": "sha256:" + "a" * 64,
                          "library_path": "/lib/liba.so"})
    assert (result["sbom_status"], result["sbom_match"], result["sbom_ref"]) == ("listed", "path", "hand")


def test_empty_and_header_only_lookups(tmp_path):
    for text in ("", ",".join(COLUMNS) + "\n", ",".join(COLUMNS)):
        path = tmp_path / "l.csv"
        path.write_text(text)
        index = SbomIndex.load(str(path))
        assert len(index) == 0 and index.subjects == 0


def test_lookup_without_the_columns_names_them(tmp_path):
    path = tmp_path / "l.csv"
    path.write_text("host,tier\nnode-1,web\n")
    with pytest.raises(ValueError, match="no column subject_digest, library_path"):
        SbomIndex.load(str(path))


@pytest.mark.parametrize("name", ["../x", "a/b", "a\\b", "..", "", ".hidden", "x..csv"])
def test_hostile_lookup_names(name):
    with pytest.raises(ValueError):
        lookup_path(name, "/app/lookups")


def test_lookup_names_resolve_in_the_lookups_folder():
    assert lookup_path("claw_sbom_libraries", "/app/lookups") == "/app/lookups/claw_sbom_libraries.csv"
    assert lookup_path("mine.csv", "/app/lookups") == "/app/lookups/mine.csv"


# --- the record loop over splunkd's CSV ---------------------------------------------

HEADER = "event_type,__mv_event_type,subject_digest,__mv_subject_digest,library_path,__mv_library_path,x,__mv_x\r\n"


def run(text, index=None):
    index = index or SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so",
                                           "library_digest": "", "package_name": "", "sbom_ref": "r"}])
    sink = Sink(spill=64)  # tiny spill threshold: exercises the temporary file
    count = annotate(text, index.check_values, sink)
    sink.flush()
    out = io.BytesIO()
    sink.write_to(out)
    assert len(out.getvalue()) == sink.length
    return count, list(csv.reader(io.StringIO(out.getvalue().decode("utf-8"), newline="")))


def test_ragged_rows_are_padded_or_cut_like_splunklib():
    text = HEADER + "library_load,,%s,,/lib/a.so\r\n" % sha("b") + \
        "library_load,,%s,,/lib/a.so,,1,,extra,more\r\n" % sha("b") + "\r\n"
    count, table = run(text)
    assert count == 3
    width = len(table[0])
    assert all(len(r) == width for r in table)
    assert table[1][8:10] == ["listed", ""] and table[2][8] == "listed" and table[2][6] == "1"
    assert table[3] == [""] * width  # a blank line is an empty record, as splunklib reads it


def test_multivalue_key_fields_use_the_first_value():
    assert first_value("a\nb", "$a$;$b$") == "a" and first_value("x", "") == "x"
    assert first_value("$\n", "$$$$;$$") == "$"
    text = HEADER + '"library_load\nlibrary_load",$library_load$;$library_load$,%s,,"/lib/a.so\n/x",$/lib/a.so$;$/x$,,\r\n' % sha("b")
    count, table = run(text)
    assert count == 1 and table[1][8] == "listed" and table[1][4] == "/lib/a.so\n/x"


def test_no_header_no_records():
    assert run("")[0] == 0


def test_status_values_with_commas_and_quotes_are_quoted():
    index = SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so",
                                  "library_digest": "", "package_name": "", "sbom_ref": 'doc, "one"'}])
    count, table = run(HEADER + "library_load,,%s,,/lib/a.so,,,\r\n" % sha("b"), index)
    assert table[1][12] == 'doc, "one"'
