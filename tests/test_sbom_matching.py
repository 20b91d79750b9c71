"""Every matching rule of claw_ta.sbom.matcher, and every path pitfall, one test each."""
import hashlib

import pytest

from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.paths import normalize_path, package_key, soname_keys


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


BIN = "sha256:" + sha("bin")
IMAGE = "sha256:" + sha("image")
SSL = "sha256:" + sha("libssl")
CRYPTO = "sha256:" + sha("libcrypto")


def row(subject, path="", digest="", package="", ref="doc-1"):
    return {"subject_digest": subject, "library_path": normalize_path(path), "library_digest": digest,
            "package_name": package, "package_version": "", "purl": "", "sbom_format": "cyclonedx",
            "sbom_ref": ref}


@pytest.fixture
def index():
    return SbomIndex.from_rows([
        row(BIN, "/usr/lib/x86_64-linux-gnu/libssl.so.3", SSL),
        row(BIN, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", CRYPTO),
        row(BIN, "/usr/lib/x86_64-linux-gnu/libz.so.1"),  # path only, no digest
        row(BIN, package="libffi8"),                       # package without files
        row(IMAGE, "/lib/ld-musl-x86_64.so.1", ref="image-sbom"),
        row(IMAGE, package="musl", ref="image-sbom"),
    ])


def check(index, path=None, digest=None, subject=BIN, image=None, event_type="library_load"):
    result = index.check({"event_type": event_type, "subject_digest": subject, "image_digest": image,
                          "library_path": path, "library_digest": digest})
    return result["sbom_status"], result["sbom_match"], result["sbom_ref"]


def test_other_event_types_are_left_untouched(index):
    for event_type in ("binary_attestation", "agent_heartbeat", "something_new", None):
        assert check(index, "/x.so", SSL, event_type=event_type) == ("", "", "")


def test_no_sbom_for_unknown_subject_and_image(index):
    assert check(index, "/usr/lib/libssl.so.3", SSL, subject="sha256:" + sha("other")) == ("no_sbom", "", "")
    assert check(index, "/usr/lib/libssl.so.3", SSL, subject=None) == ("no_sbom", "", "")


def test_rule1_digest_wins_even_at_another_path(index):
    assert check(index, "/opt/app/vendored/libssl.so.3", SSL) == ("listed", "digest", "doc-1")


def test_digest_comparison_ignores_case_and_prefix(index):
    assert check(index, "/x/libssl.so.3", SSL.upper().replace("SHA256:", "sha256:")) == ("listed", "digest", "doc-1")
    assert check(index, "/x/libssl.so.3", SSL[len("sha256:"):]) == ("listed", "digest", "doc-1")


def test_rule2_path_listed_with_different_digest_is_swapped(index):
    assert check(index, "/usr/lib/x86_64-linux-gnu/libssl.so.3", "sha256:" + sha("evil")) == ("unlisted", "path", "doc-1")


def test_path_without_listed_digest_is_listed_by_path(index):
    assert check(index, "/usr/lib/x86_64-linux-gnu/libz.so.1", "sha256:" + sha("zz")) == ("listed", "path", "doc-1")
    assert check(index, "/usr/lib/x86_64-linux-gnu/libssl.so.3") == ("listed", "path", "doc-1")


@pytest.mark.parametrize("loaded", [
    "/lib/x86_64-linux-gnu/libz.so.1",                      # merged /usr
    "/usr//lib/x86_64-linux-gnu/./libz.so.1",               # duplicate slashes, ./
    "/usr/lib/x86_64-linux-gnu/../x86_64-linux-gnu/libz.so.1",  # ..
    "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs/snapshots/123/fs/usr/lib/x86_64-linux-gnu/libz.so.1",
    "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + "e" * 64 + "/rootfs/lib/x86_64-linux-gnu/libz.so.1",
    "/proc/4121/root/usr/lib/x86_64-linux-gnu/libz.so.1",
    "/var/lib/docker/overlay2/abc123/merged/lib/x86_64-linux-gnu/libz.so.1",
])
def test_path_pitfalls_normalize_to_the_listed_path(index, loaded):
    assert check(index, loaded) == ("listed", "path", "doc-1")


@pytest.mark.parametrize("listed", ["./usr/lib/x86_64-linux-gnu/libz.so.1", "usr/lib/x86_64-linux-gnu/libz.so.1",
                                    "lib/x86_64-linux-gnu/libz.so.1", "file:///lib/x86_64-linux-gnu/libz.so.1"])
def test_relative_sbom_paths_normalize(listed):
    assert normalize_path(listed) == "/usr/lib/x86_64-linux-gnu/libz.so.1"


@pytest.mark.parametrize("loaded", ["/memfd:payload (deleted)", "/memfd:libssl.so.3", "/proc/self/fd/7",
                                    "/usr/lib/x86_64-linux-gnu/libz.so.1 (deleted)", "/proc/4121/fd/3"])
def test_unmatchable_paths_match_only_by_digest(index, loaded):
    assert normalize_path(loaded) == ""
    assert check(index, loaded, SSL) == ("listed", "digest", "doc-1")
    assert check(index, loaded, "sha256:" + sha("payload")) == ("unlisted", "", "doc-1")
    assert check(index, loaded) == ("unverifiable", "", "doc-1")


def test_unmatchable_path_is_unverifiable_when_the_sbom_lists_no_digests(index):
    # the image SBOM lists paths and packages only: a memfd digest cannot be compared
    assert check(index, "/memfd:x (deleted)", "sha256:" + sha("x"), subject=None, image=IMAGE) == (
        "unverifiable", "", "image-sbom")


def test_rule3_soname_of_package_without_files(index):
    assert check(index, "/usr/lib/x86_64-linux-gnu/libffi.so.8.1.2") == ("listed", "soname", "doc-1")
    result = index.check({"event_type": "library_load", "subject_digest": BIN,
                          "library_path": "/usr/lib/x86_64-linux-gnu/libffi.so.8"})
    assert "lower confidence" in result["sbom_reason"]


def test_soname_does_not_override_a_swapped_path(index):
    # a listed path with another digest is unlisted before any soname is considered
    assert check(index, "/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "sha256:" + sha("x"))[0] == "unlisted"


def test_unlisted_library(index):
    assert check(index, "/usr/lib/x86_64-linux-gnu/libevil.so.1", "sha256:" + sha("evil")) == ("unlisted", "", "doc-1")


def test_image_sbom_covers_every_binary_in_the_image(index):
    other_binary = "sha256:" + sha("sidecar")
    assert check(index, "/lib/ld-musl-x86_64.so.1", subject=other_binary, image=IMAGE) == (
        "listed", "path", "image-sbom")
    # binary SBOM and image SBOM both apply
    assert check(index, "/lib/ld-musl-x86_64.so.1", subject=BIN, image=IMAGE) == ("listed", "path", "image-sbom")
    assert check(index, "/usr/lib/x86_64-linux-gnu/libssl.so.3", SSL, image=IMAGE)[1] == "digest"


def test_musl_loader_and_libc_symlink_are_one_file(index):
    for loaded in ("/lib/libc.musl-x86_64.so.1", "/usr/lib/libc.musl-x86_64.so.1"):
        assert check(index, loaded, subject=None, image=IMAGE) == ("listed", "path", "image-sbom")
    assert "musl" in soname_keys("/usr/lib/ld-musl-aarch64.so.1")


def test_musl_soname_matches_musl_package():
    index = SbomIndex.from_rows([row(IMAGE, package="musl")])
    assert check(index, "/lib/ld-musl-x86_64.so.1", subject=None, image=IMAGE)[:2] == ("listed", "soname")


@pytest.mark.parametrize("vdso", ["[vdso]", "linux-vdso.so.1", "linux-gate.so.1"])
def test_vdso_is_not_a_file_and_never_unlisted(index, vdso):
    assert check(index, vdso) == ("listed", "", "doc-1")
    assert check(index, vdso, subject="sha256:" + sha("nobody"))[0] == "no_sbom"


def test_missing_values_do_not_crash(index):
    assert check(index, None, None) == ("unverifiable", "", "doc-1")
    assert check(index, "", "not-a-digest")[0] == "unverifiable"
    assert check(index, "relative/libz.so.1")[0] == "unlisted"


@pytest.mark.parametrize("name,key", [("libssl3", "ssl"), ("zlib1g", "zlib"), ("libc6", "c"),
                                      ("openssl-libs", "openssl"), ("libgcc-s1", "gcc_s"),
                                      ("libstdc++6", "stdc++"), ("musl", "musl")])
def test_package_keys(name, key):
    assert package_key(name) == key


@pytest.mark.parametrize("path,key", [("/usr/lib/libssl.so.3", "openssl"), ("/usr/lib/libz.so.1.3", "zlib"),
                                      ("/usr/lib/x86_64-linux-gnu/libc.so.6", "glibc"),
                                      ("/usr/lib64/ld-linux-x86-64.so.2", "glibc")])
def test_soname_keys_reach_the_usual_package(path, key):
    assert key in soname_keys(path)


def test_check_results_are_memoized_and_identical(index):
    first = index.check_values("library_load", BIN, None, "/usr/lib/x86_64-linux-gnu/libssl.so.3", SSL)
    assert index.check_values("library_load", BIN, None, "/usr/lib/x86_64-linux-gnu/libssl.so.3", SSL) is first
