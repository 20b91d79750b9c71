"""The verdict rules of claw_ta.sbom.matcher (evidence levels, multi-arch, no evasion).

Each rule and each evasion the issue names is one test; documents are built
directly (claw_ta.sbom.model) so the rules are tested apart from the parsers.
The workload is the attacker: it chooses library paths, file names and how
digests are spelled; none of that may turn a foreign file into ``listed``.
"""
import hashlib

import pytest

from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument
from claw_ta.sbom.paths import normalize_digest, normalize_path, package_key, soname_keys


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


FILES, PATHS, PACKAGES = sha("files-image"), sha("paths-image"), sha("packages-image")
INDEX, AMD64, ARM64, BIN = sha("index"), sha("amd64"), sha("arm64"), sha("bin")
SSL_PATH = "/usr/lib/x86_64-linux-gnu/libssl.so.3"
EVIL = "sha256:" + sha("evil")


@pytest.fixture(scope="module")
def index():
    return SbomIndex.from_documents([
        SbomDocument("cyclonedx", "files.cdx.json", [FILES], [
            Entry(SSL_PATH, sha("libssl")), Entry("./lib/x86_64-linux-gnu/libz.so.1", sha("libz")),
            Entry("/usr/lib/x86_64-linux-gnu/libpathonly.so.1", "")]),
        SbomDocument("spdx", "paths.spdx.json", [PATHS], [
            Entry("/usr/lib/libfoo.so.1", "", other_digest="sha1")]),
        SbomDocument("spdx", "packages.spdx.json", [PACKAGES], [
            Entry(name="libssl3", version="3.0"), Entry(name="zlib1g", version="1.2")]),
        SbomDocument("cyclonedx", "index.cdx.json", [INDEX], [], subject_kinds={INDEX: "index"},
                     children=[AMD64, ARM64]),
        SbomDocument("cyclonedx", "amd64.cdx.json", [AMD64], [Entry("/usr/lib/libz.so.1", sha("libz-amd64"))]),
        SbomDocument("cyclonedx", "arm64.cdx.json", [ARM64], [Entry("/usr/lib/libz.so.1", sha("libz-arm64")),
                                                             Entry("/usr/lib/libarm.so", sha("libarm"))]),
        SbomDocument("in-toto", "bin.link", [BIN], [Entry("/usr/local/bin/app", sha("app"))]),
    ])


def check(index, image, path=None, digest=None, subject=None, event_type="library_load"):
    result = index.check({"event_type": event_type, "subject_digest": subject and "sha256:" + subject,
                          "image_digest": image and "sha256:" + image, "library_path": path,
                          "library_digest": digest})
    return result["sbom_status"], result["sbom_match"], result["sbom_name"]


def status(index, image, path=None, digest=None, **kw):
    return check(index, image, path, digest, **kw)[0]


# --- 1. evidence levels ---------------------------------------------------------

def test_other_event_types_are_left_untouched(index):
    assert check(index, FILES, SSL_PATH, EVIL, event_type="agent_heartbeat") == ("", "", "")


def test_no_document_is_no_sbom(index):
    assert check(index, sha("unknown"), SSL_PATH, EVIL) == ("no_sbom", "", "")


def test_listed_by_digest_anywhere(index):
    assert check(index, FILES, "/opt/vendored/libssl.so.3", "sha256:" + sha("libssl")) == \
        ("listed", "digest", "files.cdx.json")


def test_listed_by_path_when_the_sbom_gives_no_digest_for_it(index):
    assert check(index, FILES, "/lib/x86_64-linux-gnu/libpathonly.so.1")[:2] == ("listed", "path")
    assert check(index, PATHS, "/usr/lib/libfoo.so.1", EVIL)[:2] == ("listed", "path")  # sha1 only
    # where the document lists files with SHA-256, a path without one never vouches for a SHA-256 it
    # does not list (a symlink or directory entry)
    assert check(index, FILES, "/lib/x86_64-linux-gnu/libpathonly.so.1", EVIL)[:2] == ("unlisted", "")


def test_path_listed_with_another_digest_is_a_swapped_library(index):
    assert check(index, FILES, SSL_PATH, EVIL) == ("unlisted", "path", "files.cdx.json")


def test_neither_digest_nor_path_listed_is_unlisted_where_files_are_listed(index):
    assert status(index, FILES, "/usr/lib/x86_64-linux-gnu/libfoo.so", EVIL) == "unlisted"
    assert status(index, FILES, "/usr/lib/x86_64-linux-gnu/libfoo.so") == "unlisted"
    assert status(index, PATHS, "/tmp/evil.so", EVIL) == "unlisted"


def test_the_sbom_has_a_digest_for_the_path_but_the_event_has_none(index):
    for digest in (None, "", "sha512:" + "ab" * 64, "md5:" + "ab" * 16):
        result = index.check({"event_type": "library_load", "image_digest": "sha256:" + FILES,
                              "library_path": SSL_PATH, "library_digest": digest})
        assert result["sbom_status"] == "unverifiable", digest
        assert "SHA-256" in result["sbom_reason"]


def test_package_only_sbom_never_gives_unlisted(index):
    for path in ("/usr/lib/x86_64-linux-gnu/libbrotli.so.1", "/tmp/evil.so", "/usr/lib/libm.so.6"):
        result = index.check({"event_type": "library_load", "image_digest": "sha256:" + PACKAGES,
                              "library_path": path, "library_digest": EVIL})
        assert result["sbom_status"] == "unverifiable" and "packages only" in result["sbom_reason"]


def test_soname_rule_package_match_in_standard_library_dirs(index):
    assert check(index, PACKAGES, "/lib/x86_64-linux-gnu/libssl.so.3", EVIL) == \
        ("listed", "package", "packages.spdx.json")
    assert check(index, PACKAGES, "/usr/lib/x86_64-linux-gnu/libz.so.1")[:2] == ("listed", "package")


def test_soname_rule_never_outside_the_standard_library_dirs(index):
    """Regression: /var/cache/nginx/libssl.so.3 with the attacker's digest was listed."""
    for path in ("/var/cache/nginx/libssl.so.3", "/tmp/libssl.so.3", "/usr/lib/python3/libssl.so.3",
                 "/usr/lib/x86_64-linux-gnu/sub/libssl.so.3"):
        assert status(index, PACKAGES, path, EVIL) == "unverifiable", path


def test_soname_rule_never_where_the_sbom_lists_files(index):
    """The real libssl is listed with its SHA-256: a libssl.so.3 elsewhere is no package match."""
    assert check(index, FILES, "/usr/lib/libssl.so.3", EVIL) == ("unlisted", "", "files.cdx.json")


# --- 3. multi-arch ----------------------------------------------------------------

def test_index_digest_is_checked_against_its_platform_manifests(index):
    assert check(index, INDEX, "/usr/lib/libz.so.1", "sha256:" + sha("libz-arm64")) == \
        ("listed", "digest", "arm64.cdx.json")
    assert check(index, INDEX, "/lib/libarm.so", "sha256:" + sha("libarm"))[0] == "listed"


def test_index_digest_unlisted_only_if_every_platform_says_so(index):
    assert status(index, INDEX, "/usr/lib/libz.so.1", EVIL) == "unlisted"
    assert status(index, INDEX, "/tmp/libfoo.so", EVIL) == "unlisted"


def test_index_with_a_platform_that_cannot_decide_is_unverifiable():
    index = SbomIndex.from_documents([
        SbomDocument("cyclonedx", "i", [INDEX], [], children=[AMD64, ARM64]),
        SbomDocument("cyclonedx", "a", [AMD64], [Entry("/usr/lib/libz.so.1", sha("z"))]),
        SbomDocument("spdx", "b", [ARM64], [Entry(name="zlib")])])
    assert status(index, INDEX, "/tmp/libfoo.so", EVIL) == "unverifiable"
    assert status(index, INDEX, "/usr/lib/libz.so.1", "sha256:" + sha("z")) == "listed"


def test_the_image_file_list_decides_over_the_binarys_link(index):
    # the image's SBOM lists files: a file only the binary's link lists is not the image's
    assert check(index, FILES, "/usr/local/bin/app", "sha256:" + sha("app"), subject=BIN)[:2] == ("unlisted", "")
    assert check(index, FILES, SSL_PATH, "sha256:" + sha("libssl"), subject=BIN)[:2] == ("listed", "digest")
    assert status(index, None, "/tmp/x.so", EVIL, subject=BIN) == "unlisted"


def test_binary_link_and_a_package_only_image_sbom_apply_together(index):
    assert check(index, PACKAGES, "/usr/local/bin/app", "sha256:" + sha("app"), subject=BIN)[:2] == \
        ("listed", "digest")
    assert status(index, PACKAGES, "/tmp/x.so", EVIL, subject=BIN) == "unlisted"


# --- 4. no evasion ------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/var/cache/nginx/linux-vdso.so.1", "/tmp/[vdso]", "linux-vdso.so.1 ",
                                  "./linux-vdso.so.1"])
def test_vdso_only_by_its_bare_name(index, path):
    assert status(index, FILES, path, EVIL) == "unlisted"


@pytest.mark.parametrize("path", ["linux-vdso.so.1", "[vdso]", "linux-gate.so.1"])
def test_the_real_vdso_is_listed(index, path):
    assert check(index, FILES, path)[:2] == ("listed", "")


@pytest.mark.parametrize("prefix", [
    "/srv/app/rootfs", "/tmp/snapshots/1/fs", "/var/tmp/overlay2/x/merged", "/proc/self/root",
    "/home/u/var/lib/docker/overlay2/x/merged", "/proc/1a/root"])
def test_look_alike_runtime_prefixes_are_not_stripped(index, prefix):
    assert status(index, FILES, prefix + "/usr/lib/x86_64-linux-gnu/libpathonly.so.1", EVIL) == "unlisted"


@pytest.mark.parametrize("prefix", [
    "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/42/fs",
    "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + "a" * 64 + "/rootfs",
    "/var/lib/docker/overlay2/" + "b" * 64 + "/merged", "/proc/4242/root", ""])
def test_real_runtime_prefixes_are_stripped(index, prefix):
    # a path reached only through a runtime prefix is listed by its digest alone (docs/sbom.md)
    assert status(index, FILES, prefix + "/usr/lib/x86_64-linux-gnu/libpathonly.so.1", EVIL) == "unlisted"
    assert status(index, FILES, prefix + "/lib/x86_64-linux-gnu/libpathonly.so.1") == \
        ("listed" if not prefix else "unverifiable")
    assert check(index, FILES, prefix + SSL_PATH, "sha256:" + sha("libssl"))[:2] == ("listed", "digest")
    assert check(index, FILES, prefix + SSL_PATH, EVIL)[:2] == ("unlisted", "path")


@pytest.mark.parametrize("path", [
    "/tmp/../usr/lib/x86_64-linux-gnu/libpathonly.so.1", "/usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libpathonly.so.1",
    "\\usr\\lib\\x86_64-linux-gnu\\libpathonly.so.1", "file:///usr/lib/x86_64-linux-gnu/libpathonly.so.1",
    "/usr/lib/x86_64-linux-gnu/libpathonly.so.1 ", " /usr/lib/x86_64-linux-gnu/libpathonly.so.1",
    "/usr/lib/x86_64-linux-gnu/libpathonly.so.1\n", "/usr/lib/x86_64-linux-gnu/libpathonly.so.1\x00"])
def test_unsafe_paths_are_never_matched_by_path(index, path):
    assert normalize_path(path) == ""
    assert status(index, FILES, path) == "unlisted"  # an odd name where files are listed: digest only
    assert status(index, FILES, path, EVIL) == "unlisted"  # a SHA-256 the file-level SBOM does not list
    assert status(index, FILES, path, "sha256:" + sha("libssl")) == "listed"


@pytest.mark.parametrize("spelling", [
    "sha512:" + "ab" * 64, "sha256: " + sha("libssl"), "sha256:" + sha("libssl")[:40] + " " + sha("libssl")[40:],
    "sha256:" + sha("libssl")[:63], "sha256:" + sha("libssl")[:63] + "g", "SHA-256:" + sha("libssl")])
def test_digests_in_other_spellings_are_no_digest(index, spelling):
    assert normalize_digest(spelling) == ""
    assert status(index, FILES, SSL_PATH, spelling) == "unverifiable"


def test_canonical_digest_spellings(index):
    digest = sha("libssl")
    for spelling in (digest, digest.upper(), "SHA256:" + digest, "sha256:" + digest.upper()):
        assert status(index, FILES, "/x/libssl.so.3", spelling) == "listed"


def test_every_value_of_a_multivalue_field_is_checked(index):
    result = index.check({"event_type": "library_load", "image_digest": "sha256:" + FILES,
                          "library_path": ["/usr/lib/x86_64-linux-gnu/libpathonly.so.1", "/tmp/evil.so"],
                          "library_digest": ["", EVIL]})
    assert result["sbom_status"] == "unlisted"
    result = index.check({"event_type": "library_load", "image_digest": "sha256:" + FILES,
                          "library_path": [SSL_PATH, SSL_PATH],
                          "library_digest": ["sha256:" + sha("libssl"), EVIL]})
    assert result["sbom_status"] == "unlisted"
    unpaired = index.check({"event_type": "library_load", "image_digest": "sha256:" + FILES,
                            "library_path": [SSL_PATH], "library_digest": ["sha256:" + sha("libssl"), EVIL]})
    assert unpaired["sbom_status"] == "unlisted"


def test_malformed_index_rows_are_rejected_and_counted():
    rows = [{"subject_digest": "sha256:" + FILES, "library_path": "/usr/lib/liba.so",
             "library_digest": "sha256:" + sha("a")[:60], "sbom_ref": "r"},
            {"subject_digest": "sha256:" + FILES, "library_path": "/usr/lib/libb.so",
             "library_digest": "sha256:" + sha("b"), "sbom_ref": "r"}]
    from claw_ta.sbom.matcher import _MemoryTable
    index = SbomIndex.from_rows(rows)
    # the builder already refuses the truncated digest; a hand-made table row is refused at load
    libs = index._libraries_table
    sbom_id = next(iter(libs))
    libs[sbom_id].append([sbom_id, "/usr/lib/libc.so", "sha256:" + sha("c")[:60], "", "", ""])
    assert isinstance(libs, _MemoryTable)
    assert status(index, FILES, "/usr/lib/libc.so", EVIL) == "unlisted"
    assert index.rejected == 1
    assert status(index, FILES, "/usr/lib/liba.so") == "listed"  # path only: no digest kept for it


# --- helpers --------------------------------------------------------------------

@pytest.mark.parametrize("name,key", [("libssl3", "ssl"), ("zlib1g", "zlib"), ("glibc", "glibc"),
                                      ("libstdc++6", "stdc++"), ("musl", "musl")])
def test_package_keys(name, key):
    assert package_key(name) == key


@pytest.mark.parametrize("path,key", [("/usr/lib/libssl.so.3", "openssl"), ("/usr/lib/libz.so.1", "zlib"),
                                      ("/usr/lib/ld-musl-x86_64.so.1", "musl")])
def test_soname_keys_reach_the_usual_package(path, key):
    assert key in soname_keys(path)


def test_verdicts_are_cached_and_identical(index):
    first = index.check_values("library_load", "", "sha256:" + FILES, SSL_PATH, EVIL)
    assert index.check_values("library_load", "", "sha256:" + FILES, SSL_PATH, EVIL) is first
