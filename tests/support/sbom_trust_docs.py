"""Documents for the SBOM trust and precedence tests: the swapped-libssl victim, the attacker's
documents (another build's link, CycloneDX/SPDX/statements claiming the image digest), image
index documents and platform SBOMs, and an index built from them with a trust level per file."""
import hashlib
import json
import os

from claw_ta.sbom.index import build_tables
from claw_ta.sbom.matcher import SbomIndex
from claw_ta.sbom.model import Entry, SbomDocument
from tests.paths import REPO as ROOT
from tests.replay_support import alerts_of

SWAPPED = os.path.join(ROOT, "scenarios", "attack-unlisted-library-swapped-libssl")


VICTIM_XML = os.path.join(SWAPPED, "sboms", "shop-web-5.12.0.cdx.xml")


IMAGE = "643a3454798ef76fdccfd296176a96e64a163d00a6cd2d8ce8c5747ead932333"


NGINX = "4088d47e8537a5f005b7fb4ed8a98238a5506295a1dc78c4dcc7c47e93115182"


TROJAN = "6be2289aa2c90076936f962c452dddfddf2f8aa96a749ca4ff13b6a867d74b3a"


SSL = "/usr/lib/x86_64-linux-gnu/libssl.so.3"


def sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def trojan_link():
    """An in-toto link from "another build" whose products are the victim's nginx and a trojan libssl."""
    return json.dumps({"signed": {"_type": "link", "name": "build", "materials": {},
                                  "products": {"usr/sbin/nginx": {"sha256": NGINX},
                                               SSL.lstrip("/"): {"sha256": TROJAN}},
                                  "byproducts": {}, "command": [], "environment": {}},
                       "signatures": []})


def trojan_cdx(how):
    """A CycloneDX document that claims the victim's image digest and lists the trojan libssl."""
    component = {"type": "container", "name": "registry.example.com/shop/web"}
    if how == "hash":
        component["hashes"] = [{"alg": "SHA-256", "content": IMAGE}]
    else:
        component["version"] = "sha256:" + IMAGE
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "metadata": {"component": component},
                       "components": [{"type": "file", "name": SSL,
                                       "hashes": [{"alg": "SHA-256", "content": TROJAN}]}]})


def swapped_load(**extra):
    event = {"event_type": "library_load", "subject_digest": "sha256:" + NGINX,
             "image_digest": "sha256:" + IMAGE, "library_path": SSL, "library_digest": "sha256:" + TROJAN}
    event.update(extra)
    return event


def index_of(tmp_path, files, trust):
    """SbomIndex of ``files`` ({name: text}), each document assessed as ``trust[name]``."""
    folder = tmp_path / "sboms"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)

    def assess(path, raw, doc):
        level = trust[os.path.basename(path)]
        return level, ("key:ci" if level == "verified" else ""), "test: " + level

    tables, errors = build_tables([str(folder)], assess=assess)
    assert not errors
    return SbomIndex.from_tables(tables)


def victim():
    with open(VICTIM_XML) as handle:
        return handle.read()


def unlisted_alerts(path):
    return [a for a in alerts_of(path) if a["detection_id"] == "claw_unlisted_library_load"
            and a.get("library_path") == SSL]


BIN = sha("bin")


LIB = "/usr/lib/libfoo.so.1"


def link_doc(name, lib_digest, trust="channel", signer=""):
    doc = SbomDocument("in-toto-link", name, [BIN], [Entry("/usr/bin/app", BIN), Entry(LIB, lib_digest)],
                       subject_kinds={BIN: "file"})
    doc.trust, doc.signer = trust, signer
    return doc


INDEX, AMD64, ARM64, FAKE = sha("index"), sha("amd64"), sha("arm64"), sha("made-up")


def oci_index(children):
    return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                      "digest": "sha256:" + digest, "size": 1,
                                      "platform": {"os": "linux", "architecture": arch}}
                                     for digest, arch in children]})


def platform_sbom(digest, lib_digest):
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5",
                       "metadata": {"component": {"type": "container", "name": "r/app",
                                                  "hashes": [{"alg": "SHA-256", "content": digest}]}},
                       "components": [{"type": "file", "name": "/usr/lib/libz.so.1",
                                       "hashes": [{"alg": "SHA-256", "content": lib_digest}]}]})


def index_files():
    return {"sha256-%s.json" % INDEX: oci_index([(AMD64, "amd64"), (ARM64, "arm64")]),
            "amd64.cdx.json": platform_sbom(AMD64, sha("z-amd64")),
            "arm64.cdx.json": platform_sbom(ARM64, sha("z-arm64"))}


def index_load(**extra):
    event = {"event_type": "library_load", "image_digest": "sha256:" + INDEX, "library_path": "/usr/lib/libz.so.1",
             "library_digest": "sha256:" + sha("evil")}
    event.update(extra)
    return event


def trojan_statement():
    """An in-toto statement (cosign attest by someone else) whose subject is the victim's image digest."""
    return json.dumps({"_type": "https://in-toto.io/Statement/v1",
                       "subject": [{"name": "registry.example.com/shop/web", "digest": {"sha256": IMAGE}}],
                       "predicateType": "https://cyclonedx.org/bom", "predicate": json.loads(trojan_cdx("hash"))})


def trojan_spdx():
    """An SPDX 2.3 document describing the victim's image digest (a pkg:oci purl) with the trojan file."""
    return json.dumps({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "web",
        "documentNamespace": "https://example.com/evil", "documentDescribes": ["SPDXRef-image"],
        "packages": [{"SPDXID": "SPDXRef-image", "name": "web", "externalRefs": [
            {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
             "referenceLocator": "pkg:oci/web@sha256:%s" % IMAGE}]}],
        "files": [{"SPDXID": "SPDXRef-f", "fileName": SSL, "checksums": [{"algorithm": "SHA256",
                                                                         "checksumValue": TROJAN}]}]})
