"""The command's per-document list cache (lines copied out of the sorted table, searched with
bytes.find, parsed into sets after SETS_AFTER lookups, dropped past LIST_BYTES) decides exactly
as the lists read whole into sets (the replay's path), on randomized documents (several per
subject, of every trust level, naming the image or the binary), hostile paths and multivalue
loads, in either mode and across the switch."""
import csv
import hashlib
import os
import random

import pytest

from claw_ta.sbom import liblists, matcher
from claw_ta.sbom.index import Tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument

HOSTILE = ("/usr/lib/a,b.so", '/usr/lib/q"uote.so', "/lib/../etc/x.so", "memfd:evil (deleted)",
           "/proc/self/fd/3", " /usr/lib/sp.so", "[vdso]", "usr/lib//x.so", "/lib64/./y.so",
           "/var/lib/docker/overlay2/abc/merged/usr/lib/z.so", "/usr/lib/libc.musl-x86_64.so.1")


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def documents(rnd, count):
    docs, subjects = [], []
    for s in range(count):
        entries = []
        for i in range(rnd.randint(1, 12)):
            path = rnd.choice(("/usr/lib/lib%d.so.%d" % (i, s % 3), rnd.choice(HOSTILE), ""))
            digest = rnd.choice((sha("lib%d" % i), sha("lib%d" % i).upper(), ""))
            name = rnd.choice(("", "libssl3", "sha256:" + sha("lib%d" % i), "zlib1g"))
            entries.append(Entry(path, digest, name))
            if path and rnd.random() < 0.2:  # the same path again, with another or no SHA-256
                entries.append(Entry(path, rnd.choice(("", sha("other%d" % i))), ""))
        subject = sha("subject%d" % s)
        doc = SbomDocument("cyclonedx", "urn:%d" % s, [subject], entries, subject_kinds={subject: "manifest"})
        doc.trust = rnd.choice(("verified", "channel", "channel", "untrusted"))
        docs.append(doc)
        if s and rnd.random() < 0.4:  # another document of the same subject (or of the previous one)
            other = SbomDocument("in-toto-link", "link:%d" % s, [rnd.choice((subject, subjects[-1]))],
                                 rnd.sample(entries, max(1, len(entries) // 2)) + [Entry(HOSTILE[0], sha("x%d" % s))])
            other.trust = rnd.choice(("verified", "channel", "untrusted"))
            docs.append(other)
        subjects.append(subject)
    return docs, subjects


def hand_edit(path, eager_path):
    """Rows a hand-edited table may hold, after each list's own (the file stays sorted by key): the
    list's first path again without a SHA-256, a malformed digest. Writes the same rows with the key
    column second to ``eager_path`` (read whole into memory)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    edited = [rows[0]]
    for n, row in enumerate(rows[1:], 1):
        edited.append(row)
        if n == len(rows) - 1 or rows[n + 1][0] != row[0]:
            first = next(r for r in rows[1:] if r[0] == row[0])
            edited.append([row[0], first[1], "", "", "", ""])
            edited.append([row[0], "/usr/lib/bad%d.so" % n, "sha256:abc", "", "", ""])
    for target, order in ((path, range(6)), (eager_path, (1, 0, 2, 3, 4, 5))):
        with open(target, "w", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([r[i] for i in order] for r in edited)
    return eager_path


@pytest.mark.parametrize("sets_after,pread", [(1, True), (5, True), (10 ** 9, True), (10 ** 9, False)])
@pytest.mark.parametrize("seed", range(3))
def test_list_cache_and_sets_decide_alike(tmp_path, monkeypatch, seed, sets_after, pread):
    rnd = random.Random(seed)
    monkeypatch.setattr(liblists, "SETS_AFTER", sets_after)
    docs, subjects = documents(rnd, 40)
    tables = Tables()
    for doc in docs:
        tables.add(doc)
    s_path, l_path = str(tmp_path / "s.csv"), str(tmp_path / "l.csv")
    tables.write(s_path, l_path)
    eager = hand_edit(l_path, str(tmp_path / "eager.csv"))
    monkeypatch.setattr(matcher, "LIST_BYTES", 600 if sets_after != 5 else 10 ** 9)  # lists dropped and read again many times
    in_place = SbomIndex.load(s_path, l_path)
    if not pread:  # a platform without os.pread: the stretch is searched in the map itself
        for table in (in_place._subjects_table, in_place._libraries_table):
            os.close(table._fd)
            table._fd = None
    in_memory = SbomIndex.load(s_path, eager)
    assert in_place.eager_reasons == [] and in_memory.eager_reasons  # read whole: Libraries sets
    dropped = []
    drop = in_place._drop_lists
    monkeypatch.setattr(in_place, "_drop_lists", lambda: dropped.append(1) or drop())
    for _ in range(3000):
        subject = "sha256:" + rnd.choice(subjects + [sha("unknown")])
        paths = [rnd.choice(("/usr/lib/lib%d.so.%d" % (rnd.randint(0, 12), rnd.randint(0, 2)),
                             rnd.choice(HOSTILE), "", "/tmp/evil.so")) for _ in range(rnd.choice((1, 1, 2)))]
        digests = [rnd.choice(("sha256:" + sha("lib%d" % rnd.randint(0, 12)), "", "md5:abc",
                               sha("evil"))) for _ in paths]
        if len(paths) == 1:
            paths, digests = paths[0], digests[0]
        binary = rnd.choice(("", "", "sha256:" + rnd.choice(subjects)))
        args = ("library_load", binary, subject, paths, digests)
        assert in_place.check_values(*args) == in_memory.check_values(*args), args
    # the bound was reached: reloaded lists decide the same (with 5: every list switched to sets)
    assert bool(dropped) == (sets_after != 5)
    if sets_after == 5:
        assert all(lib._digests is not None for lib in in_place._libraries.values() if lib._lookups >= 5)


def test_quick_normal_only_where_it_agrees_with_normalize_path():
    """The matcher's shortcut (no regex for a path already in canonical form) must never skip a
    change normalize_path would make: random paths built from the pieces each rule looks at."""
    from claw_ta.sbom.liblists import canonical_path, quick_normal
    from claw_ta.sbom.paths import normalize_path
    pieces = ["usr", "lib", "lib64", "bin", "sbin", "var", "snap", "microk8s", "common", "run",
              "containerd", "io.containerd.runtime.v2.task", "k8s.io", "rootfs", "proc", "1",
              "self", "fd", "dev", "shm", "docker", "overlay2", "merged", ".", "..", "", " x", "x ",
              "a\tb", "memfd:x", "x (deleted)", "libc.musl-x86_64.so.1", "[anon", "a\\b", "é", "libz.so.1"]
    rnd = random.Random(5)
    fast = merged = 0
    for _ in range(20000):
        path = "/".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 7)))
        path = rnd.choice(("/", "", "//", "./")) + path + rnd.choice(("", "", "/"))
        if canonical_path(path):
            fast += 1
            assert normalize_path(path) == path, path
        assert quick_normal(path) in (None, normalize_path(path)), path
        merged += quick_normal(path) not in (None, path)
    for path in HOSTILE + ("/var/snap/microk8s/common/run/containerd/io.containerd.runtime.v2.task/k8s.io/"
                           "abc/rootfs/usr/lib/x.so", "/dev/shm/x.so", "/usr/lib/"):
        assert not canonical_path(path) or normalize_path(path) == path, path
    assert fast > 1000 and merged > 100 and canonical_path("/usr/lib/x86_64-linux-gnu/libssl.so.3")
