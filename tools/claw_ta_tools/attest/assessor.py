"""The trust level of each document ``claw-ta sbom-index`` indexes: ``Assessor`` (the ``assess=`` hook).

``build_tables(paths, assess=Assessor(policy, ...))`` calls
``assess(path, raw_bytes, doc)`` for each parsed document; it answers
``(trust, signer, reason)`` (claw_ta.sbom.trust.LEVELS). The file's bytes are
checked once (a JSON Lines file of N envelopes is checked once, not N times),
then the document is paired with the signed object it was parsed from:

- DSSE envelopes and Sigstore bundles: by the SHA-256 of the payload bytes
  the parser read (``doc.payload_sha256``), which must be the bytes the
  signature covers;
- in-toto links: the document must list exactly the files (materials and
  products) and subjects (products) of the signed canonical bytes.

A document that is not what was signed is ``untrusted``. A good signature
counts only when the policy allows its signer for every subject of the
document (claw_ta.sbom.trust.Policy.scope_refusal).
"""
import hashlib
import json

from claw_ta.sbom import intoto
from claw_ta.sbom.model import SbomError
from claw_ta.sbom.trust import Policy, load_policy, unsigned_level
from claw_ta_tools.attest.verify import Verifier


class Assessor(object):
    """``assess(path, raw_bytes, doc) -> (trust, signer, reason)`` under a site trust policy.

    ``policy``: a claw_ta.sbom.trust.Policy or the path of an exported policy
    (CSV/JSON); ``require_signatures``: unsigned documents are ``untrusted``;
    ``channel``: the files given are a source the site trusts (unsigned
    documents are ``channel`` unless signatures are required);
    ``trusted_root``: a Sigstore ``trusted_root.json`` for keyless bundles.
    """

    def __init__(self, policy=None, require_signatures=False, channel=True, trusted_root=None):
        if isinstance(policy, str):
            policy = load_policy(policy)
        self.policy = policy if policy is not None else Policy()
        self.require_signatures = require_signatures
        self.channel = channel
        self.verifier = Verifier(self.policy, trusted_root)
        self.errors = self.verifier.errors   # policy keys or trusted root that cannot be used
        self._raw = None
        self._results = None
        self._by_claim = {}

    def __call__(self, path, raw, doc):
        return self.assess(path, raw, doc)

    def results(self, raw):
        """[(Result, claimed payload sha256)] of ``raw``, kept for the next document of the same bytes.

        The documents of one file come with the same bytes object: it is checked
        once (linear in the file, whatever the number of documents in it).
        """
        if raw is not self._raw:
            self._results = self.verifier.check(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
            self._by_claim = {}
            for result, claimed in self._results:  # the same payload twice: a good signature wins
                if claimed and (claimed not in self._by_claim or result.good and not self._by_claim[claimed][0].good):
                    self._by_claim[claimed] = (result, claimed)
            self._raw = raw
        return self._results

    def _pair(self, results, doc):
        """The (Result, claimed) ``doc`` was parsed from, or None."""
        if len(results) == 1:
            return results[0]
        digest = getattr(doc, "payload_sha256", "")
        if digest:
            return self._by_claim.get(digest)
        for result, claimed in results:
            if result.kind == "in-toto-link" and result.good and self._same_link(result, doc):
                return result, claimed
        return None

    def _same_link(self, result, doc):
        """Whether ``doc`` lists exactly the files and products of the signed link (its canonical bytes)."""
        try:
            # canonical JSON keeps control characters raw inside strings (a command's stderr)
            signed = json.loads(result.payload.decode("utf-8"), strict=False)
            signed = signed.get("signed", signed)
            materials = intoto._artifacts(signed.get("materials") or {}, "materials")
            products = intoto._artifacts(signed.get("products") or {}, "products")
        except (ValueError, AttributeError, SbomError):
            return False
        files = set((path, sha) for path, sha, _ in materials + products)
        return (set(doc.subjects) == set(sha for _, sha, _ in products if sha)
                and set((e.path, e.sha256) for e in doc.entries) == files)

    def assess(self, path, raw, doc):
        pair = self._pair(self.results(raw), doc)
        if pair is None or not pair[0].signed:
            return unsigned_level(self.channel, self.require_signatures)
        result, _ = pair
        if not result.good:
            return ("untrusted", result.signer, result.reason)
        if result.kind == "in-toto-link":
            same = self._same_link(result, doc)
        else:
            same = getattr(doc, "payload_sha256", "") == hashlib.sha256(result.payload).hexdigest()
        if not same:
            return ("untrusted", result.signer, "the document indexed is not the payload that was signed")
        if not result.in_policy:
            return ("untrusted", result.signer, "good signature, but signer %s is not in the trust policy"
                    % result.signer)
        refusal = self.policy.scope_refusal(result.signer, doc.subjects, result.names)
        if refusal:
            return ("untrusted", result.signer, "good signature, but " + refusal)
        return ("verified", result.signer, result.reason + "; the trust policy allows this signer for its subjects")
