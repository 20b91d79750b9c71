"""What a signature check says about one signed object."""


class Result(object):
    """The outcome of checking one signed object (a DSSE envelope, a Sigstore bundle, an in-toto link).

    ``signed``: it carries a signature; ``good``: a signature checked out (with
    a key of the policy, or a Sigstore bundle against the trusted root);
    ``signer``: who signed (``sha256:<key fingerprint>``, or
    ``identity (issuer)``), also for a good signature by a signer the policy
    does not allow; ``kind``: ``dsse``, ``sigstore-bundle``, ``in-toto-link``
    or ``unsigned``; ``reason``: a sentence; ``payload``: the bytes that were
    signed (the in-toto statement or link the parser must read), None when
    no signature checked out; ``names``: {subject sha256 hex: name} from the
    signed statement; ``in_policy``: the signer is one the policy names (a
    policy key, or a Sigstore row whose identity and issuer match exactly).
    """

    __slots__ = ("signed", "good", "signer", "kind", "reason", "payload", "names", "in_policy")

    def __init__(self, signed, good, signer="", kind="unsigned", reason="", payload=None, names=None,
                 in_policy=True):
        self.signed = signed
        self.good = good
        self.signer = signer
        self.kind = kind
        self.reason = reason
        self.payload = payload if good else None
        self.names = names or {}
        self.in_policy = in_policy

    def __repr__(self):
        return "Result(%s signed=%s good=%s signer=%r: %s)" % (self.kind, self.signed, self.good,
                                                               self.signer, self.reason)


def unsigned(reason="carries no signature"):
    return Result(False, False, kind="unsigned", reason=reason)


def failed(kind, reason, signer=""):
    return Result(True, False, signer, kind, reason)
