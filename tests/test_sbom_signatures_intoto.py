"""in-toto v0.9 links signed by functionary keys (in-toto-run), and the SBOM lab's signed outputs.

Links are signed in the test with in-toto's own ``in_toto_run`` and a
securesystemslib CryptoSigner (Ed25519, as the lab's in-toto-run; ECDSA and
RSA too), plain and as DSSE. The real in-toto demo links in ../shared carry
signatures but not their keys: they are signed, by no key of the policy, so
untrusted. The SBOM lab's output (CLAW_SBOMLAB_OUT) is checked with its own
public keys when present.
"""
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests import paths  # noqa: F401
from tests.support import signing

from claw_ta.sbom.parse import discover, parse_text, read_file
from claw_ta.sbom.trust import Policy
from claw_ta_tools.attest import Assessor


def _link(tmp_path, key, dsse=False, library=b"\x7fELF libfoo", command=()):
    from in_toto.runlib import in_toto_run
    from securesystemslib.signer import CryptoSigner
    (tmp_path / "libfoo.so").write_bytes(library)
    (tmp_path / "app").write_bytes(b"\x7fELF app")
    cwd = os.getcwd()
    os.chdir(str(tmp_path))
    try:
        metadata = in_toto_run("package", ["libfoo.so"], ["app", "libfoo.so"], list(command),
                               signer=CryptoSigner(key), use_dsse=dsse, record_streams=bool(command))
    finally:
        os.chdir(cwd)
    return json.dumps(metadata.to_dict()).encode()


def _level(raw, rows, **options):
    [doc] = parse_text(raw, "package.link")
    return Assessor(Policy.from_rows(rows), **options)("package.link", raw, doc)


@pytest.mark.parametrize("kind", ["ed25519", "p256", "rsa"])
@pytest.mark.parametrize("dsse", [False, True])
def test_in_toto_run_links_verify_with_the_functionary_key(tmp_path, kind, dsse):
    key = signing.generate(kind)
    trust, signer, reason = _level(_link(tmp_path, key, dsse), [signing.key_row(key)], require_signatures=True)
    assert (trust, signer) == ("verified", signing.fingerprint(key)), reason


def test_link_recording_a_commands_output_verifies(tmp_path):
    """in-toto-run records the step's stdout/stderr; canonical JSON keeps their newlines raw (the
    demo links do), which plain JSON escapes: the signature is over the canonical form."""
    key = signing.generate("ed25519")
    raw = _link(tmp_path, key, command=["sh", "-c", "echo built; echo 'a\tb' >&2"])
    assert "\\n" in raw.decode()  # the byproducts hold a newline
    trust, signer, reason = _level(raw, [signing.key_row(key)], require_signatures=True)
    assert (trust, signer) == ("verified", signing.fingerprint(key)), reason


def test_changed_link_product_is_untrusted(tmp_path):
    key = signing.generate("ed25519")
    link = json.loads(_link(tmp_path, key))
    link["signed"]["products"]["libfoo.so"]["sha256"] = "d4" * 32  # a trojan's digest
    trust, _, reason = _level(json.dumps(link).encode(), [signing.key_row(key)])
    assert trust == "untrusted" and "no key of the trust policy verifies" in reason


def test_link_products_are_files_a_repository_scope_does_not_cover(tmp_path):
    """The issue's first attack: an extra link from "another build" whose products are the victim's
    binary and a trojan library. Signed by a functionary key allowed only for images, or by a key
    outside the policy, it is untrusted; only '*' or the products' digests in the row allow it."""
    functionary, outsider = signing.generate("ed25519"), signing.generate("ed25519")
    raw = _link(tmp_path, functionary)
    assert _level(raw, [signing.key_row(functionary, images="registry.example.com/shop/*")])[0] == "untrusted"
    assert _level(raw, [signing.key_row(outsider)])[0] == "untrusted"
    [doc] = parse_text(raw, "package.link")
    digests = " ".join("sha256:" + s for s in doc.subjects)
    assert _level(raw, [signing.key_row(functionary, images="", subjects=digests)])[0] == "verified"


def test_link_from_another_file_does_not_borrow_the_signature(tmp_path):
    key = signing.generate("ed25519")
    raw = _link(tmp_path, key)
    forged = _link(tmp_path / ".." / tmp_path.name, key, library=b"trojan")  # signed too, other content
    [forged_doc] = parse_text(forged, "f.link")
    trust, _, reason = Assessor(Policy.from_rows([signing.key_row(key)]))("x", raw, forged_doc)
    assert trust == "untrusted" and "not the payload that was signed" in reason


def test_real_in_toto_demo_links_are_signed_by_no_key_of_the_policy(shared_dir):
    folder = os.path.join(shared_dir, "sboms", "real", "in-toto")
    files = [f for f in discover([folder])[0] if f.endswith(".link")]
    if not files:
        pytest.skip("no in-toto demo links in ../shared/sboms/real/in-toto")
    site_key = signing.generate("ed25519")
    for path in files:
        raw = read_file(path)
        for doc in parse_text(raw, os.path.basename(path)):
            trust, signer, reason = Assessor(Policy.from_rows([signing.key_row(site_key)]))(path, raw, doc)
            assert trust == "untrusted" and "no key of the trust policy verifies" in reason, (path, reason)
            # a signature no policy key checks is never counted as the channel, even an empty policy's
            assert Assessor(Policy())(path, raw, doc)[0] == "untrusted"


def _lab():
    out = os.environ.get("CLAW_SBOMLAB_OUT")
    if not out or not os.path.isdir(os.path.join(out, "keys")):
        pytest.skip("set CLAW_SBOMLAB_OUT to the SBOM lab's output folder (with keys/*.pub.pem)")
    return out


def test_sbom_lab_attested_and_linked_variants_verify_with_its_keys():
    out = _lab()
    rows = []
    for name in sorted(os.listdir(os.path.join(out, "keys"))):
        if name.endswith(".pub.pem"):
            with open(os.path.join(out, "keys", name)) as handle:
                rows.append({"signer_kind": "key", "public_key": handle.read(), "images": "*"})
    assert len(rows) == 2
    assessor = Assessor(Policy.from_rows(rows), require_signatures=True)
    levels = {}
    for path in discover([os.path.join(out, "sboms")])[0]:
        try:
            raw = read_file(path)
            docs = parse_text(raw, os.path.basename(path))
        except ValueError:
            continue
        for doc in docs:
            levels[path] = assessor(path, raw, doc)
    attested = [p for p in levels if p.endswith(".att.intoto.jsonl")]
    links = [p for p in levels if p.endswith(".link")]
    assert attested and links
    for path in attested + links:
        assert levels[path][0] == "verified", (path, levels[path])
    for path in set(levels) - set(attested) - set(links):
        assert levels[path][0] == "untrusted", (path, levels[path])


def test_the_sbom_labs_signers_as_the_lab_runs_them(shared_dir, tmp_path):
    """The lab's own signing steps, run here on a small tree: its lib/dsse.py (cosign-style DSSE,
    ECDSA P-256 via openssl) and in-toto-run with an Ed25519 key from openssl, as its build.sh does.
    Keys are generated into the test's temporary folder. Verified with the public keys the lab writes."""
    dsse_py = os.path.join(shared_dir, "sbomlab", "lib", "dsse.py")
    in_toto_run = os.path.join(os.path.dirname(sys.executable), "in-toto-run")
    if not os.path.isfile(dsse_py) or not shutil.which("openssl") or not os.path.isfile(in_toto_run):
        pytest.skip("needs ../shared/sbomlab/lib/dsse.py, openssl and in-toto-run")

    def sh(*argv):
        subprocess.run(list(argv), cwd=str(tmp_path), check=True, capture_output=True)

    sh("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "attest.pem")
    sh("openssl", "pkey", "-in", "attest.pem", "-pubout", "-out", "attest.pub.pem")
    sh("openssl", "genpkey", "-algorithm", "ed25519", "-out", "ed.pem")
    sh("openssl", "pkey", "-in", "ed.pem", "-pubout", "-out", "ed.pub.pem")
    (tmp_path / "sbom.cdx.json").write_text(json.dumps(signing.file_sbom({"/usr/lib/libz.so.1": "e5" * 32})))
    sh(sys.executable, dsse_py, "attest.pem", "127.0.0.1:5000/bookworm-min", "sha256:" + "a1" * 32,
       "sbom.cdx.json", "sbom.att.intoto.jsonl")
    lib = tmp_path / "rootfs" / "usr" / "lib"
    lib.mkdir(parents=True)
    (lib / "libz.so.1").write_bytes(b"\x7fELF libz")
    (tmp_path / "links").mkdir()
    sh(in_toto_run, "--step-name", "package", "--signing-key", "ed.pem", "--base-path", "rootfs",
       "--products", "usr/lib", "--no-command", "--metadata-directory", "links")
    rows = [{"signer_kind": "key", "public_key": (tmp_path / name).read_text(), "images": "*"}
            for name in ("attest.pub.pem", "ed.pub.pem")]
    assessor = Assessor(Policy.from_rows(rows), require_signatures=True)
    files = [str(tmp_path / "sbom.att.intoto.jsonl")] + discover([str(tmp_path / "links")])[0]
    assert len(files) == 2
    for path in files:
        raw = read_file(path)
        [doc] = parse_text(raw, os.path.basename(path))
        trust, signer, reason = assessor(path, raw, doc)
        assert trust == "verified", (path, reason)
    # one key alone verifies only what it signed
    only_attest = Assessor(Policy.from_rows(rows[:1]), require_signatures=True)
    raw = read_file(files[1])
    assert only_attest(files[1], raw, parse_text(raw, "l")[0])[0] == "untrusted"
