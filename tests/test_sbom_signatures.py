"""DSSE envelopes signed with a key (``cosign attest --key``): each document's trust level.

Keys are generated in the tests. Attacks: a changed payload, a key the policy
does not hold, a signer not allowed for the image, a signed document that
vouches for another image's digest, the same bytes read two ways.
"""
import base64
import json

import pytest

from tests import paths  # noqa: F401  (claw_ta importable)
from tests.support import signing

from claw_ta.sbom.parse import parse_text
from claw_ta.sbom.trust import Policy
from claw_ta_tools.attest import Assessor

VICTIM = "a1" * 32            # the victim image's manifest digest
OTHER = "b2" * 32             # another team's image
LIBSSL = "c3" * 32
TROJAN = "d4" * 32
SHOP = "registry.example.com/shop/web"


def _signed(key, subjects=((SHOP, VICTIM),), libraries=None, **options):
    stmt = signing.statement(list(subjects), signing.file_sbom(libraries or {"/usr/lib/libssl.so.3": LIBSSL}))
    return signing.to_bytes(signing.envelope(key, stmt, **options))


def _assess(raw, rows, **options):
    """[(trust, signer, reason)] of every document of ``raw`` under a policy of ``rows``."""
    assessor = Assessor(Policy.from_rows(rows), **options)
    return [assessor("x.intoto.jsonl", raw, doc) for doc in parse_text(raw, "x.intoto.jsonl")]


@pytest.mark.parametrize("kind", ["p256", "p384", "ed25519", "rsa"])
def test_each_key_type_verifies_and_names_its_fingerprint(kind):
    key = signing.generate(kind)
    [(trust, signer, reason)] = _assess(_signed(key), [signing.key_row(key, images="registry.example.com/shop/*")])
    assert (trust, signer) == ("verified", signing.fingerprint(key)), reason


def test_p384_signed_with_its_curve_hash_and_rsa_pss_verify():
    from cryptography.hazmat.primitives import hashes
    p384, rsa = signing.generate("p384"), signing.generate("rsa")
    assert _assess(_signed(p384, ec_hash=hashes.SHA384), [signing.key_row(p384)])[0][0] == "verified"
    assert _assess(_signed(rsa, rsa_pss=True), [signing.key_row(rsa)])[0][0] == "verified"


def test_changed_payload_is_untrusted():
    key = signing.generate("p256")
    env = json.loads(_signed(key))
    stmt = json.loads(base64.b64decode(env["payload"]))
    stmt["predicate"]["components"].append({"type": "file", "name": "/usr/lib/libevil.so",
                                            "hashes": [{"alg": "SHA-256", "content": TROJAN}]})
    env["payload"] = base64.b64encode(json.dumps(stmt).encode()).decode()
    [(trust, _, reason)] = _assess(signing.to_bytes(env), [signing.key_row(key)])
    assert trust == "untrusted" and "no key of the trust policy verifies" in reason


def test_wrong_key_is_untrusted_even_without_required_signatures():
    signer, site_key = signing.generate("p256"), signing.generate("p256")
    [(trust, who, reason)] = _assess(_signed(signer), [signing.key_row(site_key)])
    assert (trust, who) == ("untrusted", "") and "no key of the trust policy" in reason


def test_signer_not_allowed_for_the_image_is_untrusted():
    key = signing.generate("ed25519")
    [(trust, who, reason)] = _assess(_signed(key), [signing.key_row(key, images="registry.example.com/team-b/*")])
    assert trust == "untrusted" and who == signing.fingerprint(key)
    assert "not allowed for subject sha256:" + VICTIM in reason and SHOP in reason


def test_allowed_by_subject_digest_or_exact_repository():
    key = signing.generate("p256")
    assert _assess(_signed(key), [signing.key_row(key, images="", subjects="sha256:" + VICTIM)])[0][0] == "verified"
    assert _assess(_signed(key), [signing.key_row(key, images=SHOP)])[0][0] == "verified"
    assert _assess(_signed(key), [signing.key_row(key, images=SHOP + "-admin")])[0][0] == "untrusted"
    # a fingerprint alone cannot check a signature: the row needs the public key
    assert _assess(_signed(key), [signing.key_row(key, with_pem=False)])[0][0] == "untrusted"


def test_scoped_signer_cannot_vouch_for_another_images_digest_inside_its_sbom():
    """Team B's key, allowed for team-b/*, signs a statement about its own image whose CycloneDX
    metadata names the victim's digest (the issue's CycloneDX attack): the digest it adds is not
    named in its scope, so the document is untrusted."""
    key = signing.generate("p256")
    sbom = signing.file_sbom({"/usr/lib/libssl.so.3": TROJAN}, component={
        "type": "container", "name": "web", "hashes": [{"alg": "SHA-256", "content": VICTIM}]})
    raw = signing.to_bytes(signing.envelope(key, signing.statement(
        [("registry.example.com/team-b/app", OTHER)], sbom)))
    [doc] = parse_text(raw, "b.intoto.jsonl")
    assert VICTIM in doc.subjects  # the parser does index it under the victim's digest
    [(trust, _, reason)] = _assess(raw, [signing.key_row(key, images="registry.example.com/team-b/*")])
    assert trust == "untrusted" and "sha256:" + VICTIM in reason and "not named" in reason
    # every subject of a statement must be in scope: one named outside it spoils the document
    raw2 = _signed(key, subjects=[("registry.example.com/team-b/app", OTHER), (SHOP, VICTIM)])
    assert _assess(raw2, [signing.key_row(key, images="registry.example.com/team-b/*")])[0][0] == "untrusted"


def test_unsigned_document_with_and_without_required_signatures():
    raw = signing.to_bytes(signing.statement([(SHOP, VICTIM)], signing.file_sbom({"/usr/lib/libssl.so.3": LIBSSL})))
    assert _assess(raw, [])[0][:2] == ("channel", "")
    trust, _, reason = _assess(raw, [], require_signatures=True)[0]
    assert trust == "untrusted" and "requires signatures" in reason
    assert _assess(raw, [], channel=False)[0][0] == "untrusted"
    # an envelope stripped of its signatures is unsigned, no better
    stripped = signing.to_bytes(signing.envelope(None, signing.statement([(SHOP, VICTIM)], signing.file_sbom({}))))
    assert Assessor(Policy(), require_signatures=True)("x", stripped, _doc_of(stripped))[0] == "untrusted"


def _doc_of(raw):
    from claw_ta.sbom.model import SbomDocument
    try:
        return parse_text(raw, "x")[0]
    except ValueError:
        return SbomDocument("in-toto-statement", "x")


def test_a_document_is_verified_only_as_the_payload_that_was_signed():
    """The signed bytes and the document must be the same: a document parsed from other bytes
    (another envelope, another line) does not borrow a good signature."""
    key = signing.generate("p256")
    good = _signed(key)
    forged = _signed(None, libraries={"/usr/lib/libssl.so.3": TROJAN})
    assessor = Assessor(Policy.from_rows([signing.key_row(key)]))
    [forged_doc] = parse_text(forged, "f")
    trust, _, reason = assessor("x", good, forged_doc)
    assert trust == "untrusted" and "not the payload that was signed" in reason


def test_duplicate_keys_are_refused():
    """Two JSON readers may keep different duplicates: an envelope with two payloads is refused."""
    key = signing.generate("p256")
    env = json.loads(_signed(key))
    evil = signing.envelope(None, signing.statement([(SHOP, VICTIM)], signing.file_sbom({"/usr/lib/libssl.so.3": TROJAN})))
    text = json.dumps(env)[:-1] + ', "payload": "%s"}' % evil["payload"]
    raw = text.encode()
    [doc] = parse_text(raw, "d")  # Python's json keeps the last: the forged payload
    trust, _, reason = Assessor(Policy.from_rows([signing.key_row(key)]))("d", raw, doc)
    assert trust == "untrusted" and "duplicate key" in reason


def test_json_lines_each_envelope_gets_its_own_level_and_the_file_is_checked_once():
    ours, theirs = signing.generate("p256"), signing.generate("p256")
    raw = _signed(ours) + _signed(theirs, subjects=[(SHOP, OTHER)])
    levels = _assess(raw, [signing.key_row(ours)])
    assert [t for t, _, _ in levels] == ["verified", "untrusted"]
    assessor = Assessor(Policy.from_rows([signing.key_row(ours)]))
    calls = []
    check = assessor.verifier.check
    assessor.verifier.check = lambda data: calls.append(1) or check(data)
    for doc in parse_text(raw, "x"):
        assessor("x", raw, doc)
    assert len(calls) == 1


def test_the_parser_records_the_payload_digest_it_read():
    import hashlib
    key = signing.generate("p256")
    raw = _signed(key)
    payload = base64.b64decode(json.loads(raw)["payload"])
    assert parse_text(raw, "x")[0].payload_sha256 == hashlib.sha256(payload).hexdigest()


def test_malformed_signed_objects_get_a_level_and_a_reason_never_an_exception():
    import random
    key = signing.generate("p256")
    good = json.loads(_signed(key))
    variants = [
        dict(good, signatures="x"), dict(good, signatures=[{"sig": 5}]), dict(good, signatures=[{"sig": "!!"}]),
        dict(good, signatures=[{"sig": base64.b64encode(b"\x30\x02\x02\x00").decode()}]),
        dict(good, payload="not base64!"), dict(good, payloadType=7),
        {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "dsseEnvelope": good},
        {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": 5},
        {"signed": {"_type": "link", "products": {"a": {"sha256": "e5" * 32}}, "x": 1.5}, "signatures": [{"sig": "00"}]},
        {"signed": {"_type": "link"}, "signatures": [5]},
    ]
    text = json.dumps(good)
    rng = random.Random(7)
    for _ in range(40):
        cut = rng.randrange(len(text))
        variants.append(text[:cut] + rng.choice('"{}[],:x\\') + text[cut + 1:])
    assessor = Assessor(Policy.from_rows([signing.key_row(key)]), require_signatures=True)
    from claw_ta.sbom.model import SbomDocument
    for variant in variants:
        raw = variant.encode() if isinstance(variant, str) else json.dumps(variant).encode()
        trust, _, reason = assessor("v", raw, SbomDocument("in-toto-statement", "v"))
        assert trust == "untrusted" and reason, variant


def test_many_envelopes_in_one_file_are_checked_in_linear_time():
    """Each document of a JSON Lines file is paired with its line through a dict, the file checked once."""
    key = signing.generate("ed25519")
    lines = [_signed(key, subjects=[(SHOP, "%064x" % n)]) for n in range(300)]
    raw = b"".join(lines)
    assessor = Assessor(Policy.from_rows([signing.key_row(key)]))
    docs = parse_text(raw, "many.intoto.jsonl")
    compared = []
    same_link = assessor._same_link
    assessor._same_link = lambda *a: compared.append(1) or same_link(*a)
    assert [assessor("m", raw, d)[0] for d in docs] == ["verified"] * 300
    assert compared == []
    # a good and an unsigned copy of the same payload: the document is verified whichever comes first
    copy = signing.to_bytes(dict(json.loads(lines[0]), signatures=[]))
    for raw in (copy + lines[0], lines[0] + copy):
        assert {Assessor(Policy.from_rows([signing.key_row(key)]))("c", raw, d)[0]
                for d in parse_text(raw, "c")} == {"verified"}
