"""Names and places a workload chooses to dodge the SBOM check: odd names, runtime prefixes, sonames.

- A load whose name does not match a listed file exactly (a trailing space or
  no-break space, a control character, a backslash, `` (deleted)``, a memfd or
  /proc fd) is, where the SBOM lists files, ``listed`` only by its digest and
  otherwise ``unlisted``, with a reason that shows the odd character escaped;
  never silent (``unverifiable``) and never ``listed`` by path or package.
- A path reached only by stripping a runtime prefix (which a workload can
  create in a writable ``/run`` or ``/var/lib/docker``) is ``listed`` by its
  digest alone.
- The soname rule vouches only for the library directories of the image's
  distribution family, never /usr/local/lib.
"""
import hashlib

import pytest

from claw_ta.sbom.index import Tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


FILES, PATHS, PACKAGES = sha("files-image"), sha("paths-image"), sha("packages-image")
RPM, APK = sha("rpm-image"), sha("apk-image")
LIBZ = "/usr/lib/x86_64-linux-gnu/libz.so.1"
EVIL = "sha256:" + sha("evil")
GOOD_LIBZ = "sha256:" + sha("libz")
TASK = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + "a" * 64 + "/rootfs"
K3S = "/run/k3s/containerd/io.containerd.runtime.v2.task/k8s.io/" + "b" * 64 + "/rootfs"
DOCKER = "/var/lib/docker/overlay2/" + "c" * 64 + "/merged"


def documents():
    return [
        SbomDocument("cyclonedx", "files.cdx.json", [FILES], [Entry(LIBZ, sha("libz")),
                                                              Entry("/usr/lib/x86_64-linux-gnu/libc.so.6", sha("c"))]),
        SbomDocument("spdx", "paths.spdx.json", [PATHS], [Entry(LIBZ, "", other_digest="sha1")]),
        SbomDocument("spdx", "packages.spdx.json", [PACKAGES], [
            Entry(name="zlib1g", version="1:1.2.13", purl="pkg:deb/debian/zlib1g@1:1.2.13"),
            Entry(name="libssl3", version="3.0", purl="pkg:deb/debian/libssl3@3.0")]),
        SbomDocument("spdx", "rpm.spdx.json", [RPM], [
            Entry(name="zlib", version="1.2.13", purl="pkg:rpm/fedora/zlib@1.2.13")]),
        SbomDocument("spdx", "apk.spdx.json", [APK], [
            Entry(name="zlib", version="1.3", purl="pkg:apk/alpine/zlib@1.3")]),
    ]


@pytest.fixture(scope="module", params=["memory", "table"])
def index(request, tmp_path_factory):
    """The same documents held in memory (the replay) and read in place from the tables on disk."""
    if request.param == "memory":
        return SbomIndex.from_documents(documents())
    tables = Tables()
    for doc in documents():
        tables.add(doc)
    folder = tmp_path_factory.mktemp("tables")
    subjects, libraries = str(folder / "s.csv"), str(folder / "l.csv")
    tables.write(subjects, libraries)
    return SbomIndex.load(subjects, libraries)


def check(index, image, path, digest=None):
    result = index.check({"event_type": "library_load", "image_digest": "sha256:" + image,
                          "library_path": path, "library_digest": digest})
    return result["sbom_status"], result["sbom_match"], result["sbom_reason"]


# --- 1. odd names ---------------------------------------------------------------

ODD = [(LIBZ + " ", "a space at the end"), (LIBZ + "\u00a0", "'\\xa0' at the end"),
       ("/usr/lib/x86_64-linux-gnu/lib\x07z.so.1", "'\\x07'"), ("/usr/lib\\x86_64-linux-gnu/libz.so.1", "'\\\\'"),
       (LIBZ + "\t", "'\\t' at the end"), ("\u00a0" + LIBZ, "'\\xa0' at the start")]


@pytest.mark.parametrize("path,shown", ODD)
def test_odd_names_are_never_silent_where_files_are_listed(index, path, shown):
    for image, digest in ((FILES, None), (FILES, EVIL), (PATHS, EVIL), (PATHS, None)):
        status, match, reason = check(index, image, path, digest)
        assert (status, match) == ("unlisted", ""), (image, digest, reason)
        assert shown in reason, reason
    assert check(index, FILES, path, GOOD_LIBZ)[:2] == ("listed", "digest")
    assert check(index, FILES, LIBZ + ".evil", EVIL)[0] == "unlisted"  # the normal name, for comparison


@pytest.mark.parametrize("path,shown", ODD)
def test_odd_names_are_never_listed_by_package(index, path, shown):
    status, _, reason = check(index, PACKAGES, path.replace("libz.so.1", "libssl.so.3"))
    assert status == "unverifiable" and shown in reason, reason


def test_odd_name_the_normalizer_keeps_shows_its_character(index):
    status, _, reason = check(index, FILES, LIBZ + "\u200b", EVIL)
    assert status == "unlisted" and "'\\u200b' at the end" in reason


@pytest.mark.parametrize("path", ["/memfd:libz (deleted)", "/proc/self/fd/7", "/proc/thread-self/fd/3",
                                  "/proc/4242/fd/9", "memfd:x"])
def test_fileless_loads_are_listed_only_by_digest(index, path):
    status, match, reason = check(index, FILES, path)
    assert (status, match) == ("unlisted", "") and "fileless" in reason
    assert check(index, PATHS, path, EVIL)[0] == "unlisted"
    assert check(index, FILES, path, GOOD_LIBZ)[:2] == ("listed", "digest")
    assert check(index, PACKAGES, path)[0] == "unverifiable"


def test_a_file_deleted_while_mapped_is_judged_by_its_digest(index):
    upgraded = LIBZ + " (deleted)"  # replaced by a package upgrade while mapped
    assert check(index, FILES, upgraded, GOOD_LIBZ)[:2] == ("listed", "digest")
    status, _, reason = check(index, FILES, upgraded, EVIL)
    assert status == "unlisted" and "deleted while mapped" in reason
    assert check(index, FILES, upgraded)[0] == "unlisted"
    assert check(index, PACKAGES, upgraded)[0] == "unverifiable"  # never listed by package


# --- 2. runtime prefixes ------------------------------------------------------------

@pytest.mark.parametrize("prefix", [TASK, K3S, DOCKER])
def test_a_runtime_prefix_path_is_listed_by_digest_alone(index, prefix):
    # path-only SBOM: the stripped path is listed, but the prefix can be a folder the workload made
    status, match, reason = check(index, PATHS, prefix + LIBZ, EVIL)
    assert status == "unverifiable" and "runtime prefix" in reason, reason
    assert check(index, PATHS, prefix + "/usr/lib/libevil.so", EVIL)[0] == "unlisted"
    # package-only SBOM: never listed/package
    assert check(index, PACKAGES, prefix + "/usr/lib/x86_64-linux-gnu/libssl.so.3")[0] == "unverifiable"
    # files with SHA-256: the digest decides
    assert check(index, FILES, prefix + LIBZ, GOOD_LIBZ)[:2] == ("listed", "digest")
    assert check(index, FILES, prefix + LIBZ, EVIL)[:2] == ("unlisted", "path")
    assert check(index, FILES, prefix + LIBZ)[0] == "unverifiable"
    # without the prefix, as before
    assert check(index, PATHS, LIBZ, EVIL)[:2] == ("listed", "path")
    assert check(index, PACKAGES, "/usr/lib/x86_64-linux-gnu/libssl.so.3")[:2] == ("listed", "package")


# --- 4. sonames -----------------------------------------------------------------------

def test_usr_local_lib_is_never_a_standard_library_directory(index):
    assert check(index, PACKAGES, "/usr/local/lib/libz.so.1.2.13")[0] == "unverifiable"
    assert check(index, PACKAGES, "/usr/local/lib/x86_64-linux-gnu/libz.so.1")[0] == "unverifiable"
    assert check(index, PACKAGES, "/usr/local/lib64/libz.so.1")[0] == "unverifiable"
    assert check(index, PACKAGES, "/lib/x86_64-linux-gnu/libz.so.1")[:2] == ("listed", "package")


@pytest.mark.parametrize("image,listed,foreign", [
    (PACKAGES, ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/libz.so.1"], ["/usr/lib/libz/libz.so.1"]),
    (RPM, ["/usr/lib64/libz.so.1", "/lib64/libz.so.1.2.13", "/usr/lib/libz.so.1"],
     ["/usr/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib32/libz.so.1"]),
    (APK, ["/lib/libz.so.1", "/usr/lib/libz.so.1.3"], ["/usr/lib64/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1"]),
])
def test_soname_rule_uses_the_library_directories_of_the_distribution(index, image, listed, foreign):
    for path in listed:
        assert check(index, image, path)[:2] == ("listed", "package"), path
    for path in foreign:
        assert check(index, image, path)[0] == "unverifiable", path


# --- end to end: the unlisted rule in the replay (the same stages as the saved search) ----------

def test_a_preloaded_no_break_space_name_raises_the_unlisted_rule(tmp_path):
    """ld.so.preload can name ``/usr/lib/x86_64-linux-gnu/libz.so.1\\u00a0``: with a path-only SBOM and no
    digest on the event it used to be unverifiable (no alert)."""
    import json as _json
    from tests.replay_support import D_APP, alerts_of, lib, make_scenario
    sbom = _json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5",
                        "metadata": {"component": {"type": "application", "name": "api",
                                                   "hashes": [{"alg": "SHA-256", "content": D_APP[7:]}]}},
                        "components": [{"type": "file", "name": LIBZ}]})
    events = [lib("12:01:00", LIBZ, library_digest=None), lib("12:02:00", LIBZ + "\u00a0", library_digest=None),
              lib("12:03:00", "/proc/thread-self/fd/5", library_digest=None)]
    alerts = alerts_of(make_scenario(tmp_path, "s", events, sboms={"api.cdx.json": sbom}))
    unlisted = sorted(a["library_path"] for a in alerts if a["detection_id"] == "claw_unlisted_library_load")
    assert unlisted == ["/proc/thread-self/fd/5", LIBZ + "\u00a0"]
