"""Signature checks for SBOM attestations, outside Splunk (``cryptography``, ``sigstore``, ``securesystemslib``).

- :mod:`dsse`: DSSE envelopes signed with a key (``cosign attest --key``);
- :mod:`bundle`: Sigstore bundles v0.1-v0.3, keyless, offline against a trusted root;
- :mod:`link`: in-toto v0.9 links signed by functionary keys;
- :mod:`verify`: finds the signed objects in a file's bytes, as the parser splits them;
- :mod:`assessor`: :class:`Assessor`, each document's trust level under the site's policy
  (claw_ta.sbom.trust), the ``assess=`` hook of ``build_tables``.

docs/sbom-trust.md says where each check runs and what the in-Splunk rebuild does.
"""
from claw_ta_tools.attest.assessor import Assessor  # noqa: F401
from claw_ta_tools.attest.verify import Verifier  # noqa: F401
