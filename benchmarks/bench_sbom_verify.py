"""Cost of signature checks in ``claw-ta sbom-index``: verification on vs off, in the same run.

    .venv/bin/python benchmarks/bench_sbom_verify.py                 # 200 documents of 2,000 files
    .venv/bin/python benchmarks/bench_sbom_verify.py --docs 50 --files 20000
    .venv/bin/python benchmarks/bench_sbom_verify.py --kind link --docs 20 --files 20000   # in-toto links
    CLAW_SBOMLAB_OUT=<lab out> .venv/bin/python benchmarks/bench_sbom_verify.py   # the lab's attested SBOMs

The documents are what ``cosign attest --key`` writes: an in-toto Statement
v1 around a CycloneDX file-level SBOM (--files files, each with a SHA-256),
in a DSSE envelope signed with an ECDSA P-256 key generated in the run, one
envelope per line. With CLAW_SBOMLAB_OUT set, the SBOM lab's attested
documents (``sboms/attested/*.att.intoto.jsonl``) and its verification key
(``keys/attest-p256.pub.pem``) are used instead.

Baseline, measured in the same run on the same files: ``claw-ta sbom-index``
without trust options (no signature checked). Measured: the same command with
``--trust-policy policy.json --require-signatures`` (every envelope checked,
each document paired with its signed payload and its signer's scope checked).
Each is run in a child process (the command as users run it); the figure is
the least CPU time (user + system of the child) of --repeat interleaved
runs, so that a shared machine's load falls on both. Target: on/off <= 2x.
Where this version's tables have no trust columns (``build_tables`` without
``assess=``), the command refuses the trust options and the two are timed
in-process instead (parse + tables, with and without the Assessor), saying so.
"""
import argparse
import csv
import glob
import inspect
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path[:0] = [os.path.join(REPO, "TA-claw-runtime", "bin"), os.path.join(REPO, "tools")]

from claw_ta.sbom.index import Tables, build_tables  # noqa: E402
from claw_ta.sbom.parse import discover, parse_text, read_file  # noqa: E402
from claw_ta.sbom.trust import load_policy  # noqa: E402
from claw_ta_tools.attest import Assessor  # noqa: E402
from claw_ta_tools.attest.dsse import pae  # noqa: E402

TARGET = 2.0


class signing(object):
    """Keys and documents as cosign and in-toto-run write them (keys generated in the run)."""

    @staticmethod
    def generate(kind):
        from cryptography.hazmat.primitives.asymmetric import ec, ed25519
        return ec.generate_private_key(ec.SECP256R1()) if kind == "p256" else ed25519.Ed25519PrivateKey.generate()

    @staticmethod
    def sign(key, data):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        return key.sign(data, ec.ECDSA(hashes.SHA256())) if isinstance(key, ec.EllipticCurvePrivateKey) \
            else key.sign(data)

    @staticmethod
    def key_row(key, images):
        from cryptography.hazmat.primitives import serialization
        pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
        return {"signer_kind": "key", "public_key": pem, "images": images}

    @staticmethod
    def file_sbom(libraries):
        return {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                "components": [{"type": "file", "name": path, "hashes": [{"alg": "SHA-256", "content": digest}]}
                               for path, digest in sorted(libraries.items())]}

    @staticmethod
    def statement(subjects, predicate):
        return {"_type": "https://in-toto.io/Statement/v1",
                "subject": [{"name": name, "digest": {"sha256": digest}} for name, digest in subjects],
                "predicateType": "https://cyclonedx.org/bom", "predicate": predicate}

    @staticmethod
    def envelope(key, statement):
        import base64
        body = json.dumps(statement, separators=(",", ":")).encode()
        sig = signing.sign(key, pae("application/vnd.in-toto+json", body))
        return {"payloadType": "application/vnd.in-toto+json", "payload": base64.b64encode(body).decode(),
                "signatures": [{"keyid": "", "sig": base64.b64encode(sig).decode()}]}

    @staticmethod
    def to_bytes(obj):
        return (json.dumps(obj, separators=(",", ":")) + "\n").encode()


def generate_links(folder, policy, docs, files):
    """``docs`` in-toto v0.9 links of ``files`` products each, signed as in-toto-run signs (Ed25519)."""
    from securesystemslib.formats import encode_canonical
    key = signing.generate("ed25519")
    for number in range(docs):
        products = {"usr/lib/x86_64-linux-gnu/lib%d_%d.so.1" % (number, i): {"sha256": "%064x" % (number * files + i)}
                    for i in range(files)}
        signed = {"_type": "link", "name": "package", "materials": {}, "products": products,
                  "byproducts": {}, "command": [], "environment": {}}
        sig = signing.sign(key, encode_canonical(signed).encode()).hex()
        with open(os.path.join(folder, "package.%04d.link" % number), "w") as handle:
            json.dump({"signatures": [{"keyid": "", "sig": sig}], "signed": signed}, handle)
    with open(policy, "w") as handle:
        json.dump([signing.key_row(key, images="*")], handle)


def generate(folder, policy, docs, files):
    """``docs`` signed documents of ``files`` files each in ``folder``, and ``policy`` holding their key."""
    key = signing.generate("p256")
    for number in range(docs):
        libraries = {"/usr/lib/x86_64-linux-gnu/lib%d_%d.so.1" % (number, i): "%064x" % (number * files + i)
                     for i in range(files)}
        stmt = signing.statement([("registry.example.com/team%d/app" % (number % 10), "%064x" % (10 ** 9 + number))],
                                 signing.file_sbom(libraries))
        with open(os.path.join(folder, "doc%04d.att.intoto.jsonl" % number), "wb") as handle:
            handle.write(signing.to_bytes(signing.envelope(key, stmt)))
    with open(policy, "w") as handle:
        json.dump([signing.key_row(key, images="registry.example.com/*")], handle)


def lab(out, folder):
    key = os.path.join(out, "keys", "attest-p256.pub.pem")
    docs = sorted(glob.glob(os.path.join(out, "sboms", "attested", "*.att.intoto.jsonl")))
    if not docs or not os.path.isfile(key):
        sys.exit("CLAW_SBOMLAB_OUT=%s: no sboms/attested/*.att.intoto.jsonl or keys/attest-p256.pub.pem" % out)
    policy = os.path.join(folder, "policy.json")
    with open(key) as handle:
        pem = handle.read()
    with open(policy, "w") as handle:
        json.dump([{"signer_kind": "key", "public_key": pem, "images": "*"}], handle)
    return docs, policy


def run_cli(sboms, out, extra):
    """CPU seconds of one ``claw-ta sbom-index`` child process, and its stderr."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.join(REPO, "TA-claw-runtime", "bin"),
                                                       os.path.join(REPO, "tools")]))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-m", "claw_ta_tools.cli", "sbom-index", "-o", out] + extra + sboms,
                          capture_output=True, text=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        sys.exit("claw-ta sbom-index failed (%d): %s" % (done.returncode, done.stderr[-2000:]))
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done.stderr


def run_inprocess(files, assess):
    """CPU seconds of parsing and tabling ``files`` (with ``assess`` per document if given), and the levels."""
    levels = {}
    start = time.process_time()
    tables = Tables()
    for path in files:
        raw = read_file(path)
        for doc in parse_text(raw, os.path.basename(path)):
            if assess is not None:
                trust = assess(path, raw, doc)[0]
                levels[trust] = levels.get(trust, 0) + 1
            tables.add(doc)
    list(tables.subject_rows())
    list(tables.library_rows())
    tables.close()
    return time.process_time() - start, levels


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kind", choices=("dsse", "link"), default="dsse",
                        help="cosign-style DSSE attestations (default) or in-toto v0.9 links (Ed25519)")
    args = parser.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="bench_sbom_verify_")
    try:
        out_dir = os.path.join(tmp, "out")
        os.mkdir(out_dir)
        if os.environ.get("CLAW_SBOMLAB_OUT"):
            files, policy = lab(os.environ["CLAW_SBOMLAB_OUT"], tmp)
            what = "the SBOM lab's %d attested documents" % len(files)
        else:
            sboms = os.path.join(tmp, "sboms")
            os.mkdir(sboms)
            policy = os.path.join(tmp, "policy.json")
            (generate if args.kind == "dsse" else generate_links)(sboms, policy, args.docs, args.files)
            files = discover([sboms])[0]
            what = "%d generated documents of %d files (%s)" % (
                args.docs, args.files, "DSSE, ECDSA P-256" if args.kind == "dsse" else "in-toto links, Ed25519")
        size = sum(os.path.getsize(f) for f in files) / 1e6
        print("bench_sbom_verify: %s, %.1f MB, Python %s" % (what, size, sys.version.split()[0]))
        hook = "assess" in inspect.signature(build_tables).parameters
        out = os.path.join(out_dir, "claw_sbom_libraries.csv")
        offs, ons, levels = [], [], None
        for _ in range(args.repeat):
            if hook:
                offs.append(run_cli(files, out, [])[0])
                seconds, stderr = run_cli(files, out, ["--trust-policy", policy, "--require-signatures"])
                ons.append(seconds)
                with open(os.path.join(out_dir, "claw_sbom_subjects.csv"), newline="") as handle:
                    levels = {}
                    for row in csv.DictReader(handle):
                        levels[row["sbom_trust"]] = levels.get(row["sbom_trust"], 0) + 1
            else:
                offs.append(run_inprocess(files, None)[0])
                assessor = Assessor(load_policy(policy), require_signatures=True)
                seconds, levels = run_inprocess(files, assessor)
                ons.append(seconds)
        how = "claw-ta sbom-index, child process CPU" if hook else \
            "in-process parse + tables (this version's build_tables has no assess= hook)"
        off, on = min(offs), min(ons)
        print("  %s, least of %d runs" % (how, args.repeat))
        print("  verification off: %.2f s   on: %.2f s   ratio on/off: %.2fx (target <= %.1fx: %s)"
              % (off, on, on / off, TARGET, "met" if on / off <= TARGET else "NOT met"))
        print("  levels with verification: %s" % ", ".join("%s %d" % kv for kv in sorted((levels or {}).items())))
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
