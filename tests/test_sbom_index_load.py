"""The tables on disk: read in place (sorted, mmap), or whole when hand-edited; the CSV record loop."""
import csv
import hashlib
import io
import os

import pytest

from claw_ta.sbom.index import SUBJECT_COLUMNS, Tables, build_tables, joined_rows, lookup_path
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument
from claw_ta.sbom.stream import Sink, annotate, first_value
from tests.paths import DATA


def sha(text):
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture(scope="module")
def tables():
    found, errors = build_tables([os.path.join(DATA, "sbom")])
    assert errors == []
    return found


def probes(tables):
    """Events for every subject and library: by digest, by path, swapped, by soname, misses."""
    events = []
    for row in joined_rows(tables):
        base = {"event_type": "library_load", "image_digest": row["subject_digest"]}
        events.append(dict(base, library_path=row["library_path"], library_digest=row["library_digest"]))
        events.append(dict(base, library_path=row["library_path"], library_digest=sha("swapped")))
        events.append(dict(base, library_path="/usr/lib/lib%s.so.1" % row["package_name"]))
        events.append(dict(base, library_path="/nowhere/libx.so", library_digest=sha("x")))
    return events


def write(tables, tmp_path):
    subjects, libraries = str(tmp_path / "s.csv"), str(tmp_path / "l.csv")
    tables.write(subjects, libraries)
    return subjects, libraries


def test_sorted_tables_are_searched_in_place_and_decide_like_memory(tables, tmp_path):
    subjects, libraries = write(tables, tmp_path)
    on_disk = SbomIndex.load(subjects, libraries)
    assert on_disk.eager_reasons == []
    assert on_disk._subjects_table._rows is None and on_disk._subjects == {}  # nothing read yet
    in_memory = SbomIndex.from_tables(tables)
    events = probes(tables)
    assert len(events) > 50
    assert {on_disk.check(e)["sbom_status"] for e in events} >= {"listed", "unlisted"}
    for event in events:
        assert on_disk.check(event) == in_memory.check(event), event


def test_unsorted_or_reordered_tables_are_read_whole_and_decide_alike(tables, tmp_path):
    subjects, libraries = write(tables, tmp_path)
    with open(subjects, encoding="utf-8") as handle:
        header, *lines = handle.readlines()
    with open(subjects, "w", encoding="utf-8") as handle:  # hand-edited: rows appended out of order
        handle.writelines([header] + lines[1:] + lines[:1])
    reordered = str(tmp_path / "r.csv")
    with open(libraries, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(reordered, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL).writerows([list(reversed(r)) for r in rows])
    index = SbomIndex.load(subjects, reordered)
    assert len(index.eager_reasons) == 2
    memory = SbomIndex.from_tables(tables)
    for event in probes(tables):
        assert index.check(event) == memory.check(event), event


def test_in_toto_link_with_n_products_gives_about_n_rows(tmp_path):
    """Regression: a link with 3,518 products became 2,698,306 rows (every product a subject)."""
    products = [sha("p%d" % i)[7:] for i in range(3000)]
    doc = SbomDocument("in-toto", "big.link", products,
                       [Entry("/usr/lib/lib%d.so" % i, d) for i, d in enumerate(products)])
    tables = Tables()
    tables.add(doc)
    subjects, libraries = write(tables, tmp_path)
    with open(subjects) as a, open(libraries) as b:
        assert sum(1 for _ in a) - 1 == 3000 and sum(1 for _ in b) - 1 == 3000


def test_builder_memory_is_bounded_by_spilling_sorted_runs(tmp_path):
    tables = Tables(spill=100)
    for n in range(30):
        tables.add(SbomDocument("cyclonedx", "d%d" % n, [sha("s%d" % n)[7:]],
                                [Entry("/usr/lib/l%d_%d.so" % (n, i), sha("%d-%d" % (n, i))[7:]) for i in range(50)]))
    assert len(tables.libraries._runs) >= 10 and len(tables.libraries._lines) < 100
    subjects, libraries = write(tables, tmp_path)
    with open(libraries) as handle:
        lines = handle.readlines()[1:]
    assert lines == sorted(lines) and len(lines) == 30 * 50
    index = SbomIndex.load(subjects, libraries)
    assert index.check_values("library_load", "", sha("s7"), "/usr/lib/l7_3.so", sha("7-3"))[0] == "listed"


def test_identical_library_lists_are_stored_once(tmp_path):
    entries = [Entry("/usr/lib/a.so", sha("a")[7:])]
    tables = Tables()
    tables.add(SbomDocument("cyclonedx", "one", [sha("1")[7:]], entries))
    tables.add(SbomDocument("cyclonedx", "two", [sha("2")[7:]], entries))
    assert len(list(tables.library_rows())) == 1 and len(list(tables.subject_rows())) == 2


def test_empty_and_header_only_tables(tmp_path):
    for text in ("", ",".join(SUBJECT_COLUMNS) + "\n", ",".join(SUBJECT_COLUMNS)):
        path = tmp_path / "s.csv"
        path.write_text(text)
        index = SbomIndex.load(str(path), None)
        assert index.check_values("library_load", "", sha("x"), "/usr/lib/a.so", "")[0] == "no_sbom"


def test_table_without_the_columns_names_them(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("host,tier\nnode-1,web\n")
    with pytest.raises(ValueError, match="no column subject_digest, subject_kind"):
        SbomIndex.load(str(path), None)


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


def test_nul_bytes_are_replaced_and_counted():
    from claw_ta.sbom.stream import Annotator
    index = SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so", "sbom_ref": "r"}])
    annotator = Annotator(index.check_values)
    out = io.StringIO()
    count = annotator.text(HEADER + "library_load,,%s,,/lib/a.so,,a\x00b,\r\nother,,,,,,\x00,\r\n" % sha("b"), out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == 2 and annotator.nuls == 2 and rows[1][6] == "a\ufffdb" and rows[1][8] == "listed"


def test_records_split_across_pieces_keep_their_text():
    from claw_ta.sbom.stream import Annotator
    index = SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so", "sbom_ref": "r"}])
    record = 'library_load,,%s,,/lib/a.so,,"multi\r\nline, ""quoted""",\r\n' % sha("b")
    body = (HEADER + record * 50).encode()
    whole, pieces = io.StringIO(), io.StringIO()
    Annotator(index.check_values).text(body.decode(), whole)
    from claw_ta.sbom import stream
    count = Annotator(index.check_values).text(stream._pieces(io.BytesIO(body), len(body), piece=37), pieces)
    assert count == 50 and pieces.getvalue() == whole.getvalue()
    assert whole.getvalue().count('"multi\r\nline, ""quoted"""') == 50


def test_multivalue_event_type_uses_the_first_value_and_every_path_is_checked():
    assert first_value("a\nb", "$a$;$b$") == "a" and first_value("x", "") == "x"
    assert first_value("$\n", "$$$$;$$") == "$"
    text = HEADER + '"library_load\nlibrary_load",$library_load$;$library_load$,%s,,"/lib/a.so\n/x",$/lib/a.so$;$/x$,,\r\n' % sha("b")
    count, table = run(text)
    assert count == 1 and table[1][8] == "unlisted" and table[1][4] == "/lib/a.so\n/x"  # /x is not listed


def test_no_header_no_records():
    assert run("")[0] == 0


def test_status_values_with_commas_and_quotes_are_quoted():
    index = SbomIndex.from_rows([{"subject_digest": sha("b"), "library_path": "/usr/lib/a.so",
                                  "library_digest": "", "package_name": "", "sbom_ref": 'doc, "one"'}])
    count, table = run(HEADER + "library_load,,%s,,/lib/a.so,,,\r\n" % sha("b"), index)
    assert table[0][20] == "sbom_name" and table[1][20] == 'doc, "one"'


def test_in_place_search_confirms_the_column(tmp_path):
    """A table read in place is searched with find(): a digest inside a purl, a path inside a
    name, a malformed digest row must not count (as when the table is read whole)."""
    subject, other = sha("s")[7:], sha("other")
    tables = Tables()
    tables.add(SbomDocument("cyclonedx", "d", [subject], [
        Entry("/usr/lib/a,b.so", sha("ab")[7:]),
        Entry("", "", name="/usr/lib/libname.so", purl="pkg:oci/x@" + other),
        Entry("/usr/lib/libc.so.6", sha("libc")[7:])]))
    subjects, libraries = write(tables, tmp_path)
    with open(libraries, "a", encoding="utf-8") as handle:  # a hand-made row, sorted last of its list
        handle.write(next(iter(tables.libraries)).split(",")[0] + ",/usr/lib/zz.so,sha256:abc,,,\n")
    mapped = SbomIndex.load(subjects, libraries)
    assert mapped.eager_reasons == []
    image = "sha256:" + subject
    assert mapped.check_values("library_load", "", image, "/tmp/x.so", other)[0] == "unlisted"
    assert mapped.check_values("library_load", "", image, "/usr/lib/libname.so", "")[0] == "unlisted"
    assert mapped.check_values("library_load", "", image, "/usr/lib/a,b.so", "")[:2] == ("unverifiable", "path")
    assert mapped.check_values("library_load", "", image, "/lib/libc.so.6", sha("libc"))[:2] == ("listed", "digest")
    assert mapped.check_values("library_load", "", image, "/usr/lib/zz.so", sha("zz"))[0] == "unlisted"
    assert mapped.rejected == 1
