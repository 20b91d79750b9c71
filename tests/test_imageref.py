"""One image-reference normalization in Python (claw_ta/detections/imageref.py) and SPL (the macro
`claw_normalize_image_ref(1)`), checked on random spellings of random repositories.

A reference is generated from its parts (registry, port, repository path, tag,
digest), each written the ways an attacker may write it and a runtime still
dials the same repository: the host in any case and with a trailing dot
(a fully qualified DNS name), the default ports 443 and 80 with or without
leading zeros (``:0443`` is port 443), Docker Hub as ``docker.io``,
``index.docker.io``, ``registry-1.docker.io`` or no registry at all, with or
without ``library/``, a tag, a digest or both. Every spelling of one
repository gives the same value in Python and through the SPL emulator
(tools/claw_ta_tools/emulators/spl_eval.py, the shipped macro expanded), and
different repositories (another port, host or path) give different values.

Splunk's eval functions ``replace`` and ``match`` take PCRE regular expressions
(https://help.splunk.com/en/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/text-functions,
https://help.splunk.com/en/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/comparison-and-conditional-functions):
the lookaheads the macro uses are PCRE, evaluated by the emulator with Python's re.
"""
import random

import pytest

from claw_ta.detections import imageref
from claw_ta_tools.detections import engine
from claw_ta_tools.emulators import app_content, spl_eval, spl_lint
from tests.replay_support import IMG, IMG2, ev, make_scenario

CONTENT = app_content.AppContent()

HOSTS = ("registry.example.com", "ghcr.io", "quay.io", "10.0.0.7", "localhost", "reg.internal.example")
HUB_SPELLINGS = ("", "docker.io", "index.docker.io", "registry-1.docker.io")
NAMES = ("nginx", "redis", "shop/cart", "team/app/api", "library/busybox")


def spl_normalize():
    expression = spl_lint.expand_macros("`claw_normalize_image_ref(image_ref)`", CONTENT.macros)
    assert "claw_normalize_image_ref" not in expression
    compiled = spl_eval.compile_expression(expression)
    return lambda ref: compiled({"image_ref": ref})


def random_case(rnd, text):
    return "".join(c.upper() if rnd.random() < 0.5 else c for c in text)


def spelling(rnd, repo):
    """One way to write ``repo`` = (host or None for Docker Hub, port or None, path)."""
    host, port, path = repo
    if host is None:
        registry = rnd.choice(HUB_SPELLINGS)
        if registry and rnd.random() < 0.3:
            registry += ":" + "0" * rnd.randint(0, 2) + rnd.choice(("443", "80"))
        if registry and rnd.random() < 0.3:
            registry = random_case(rnd, registry)
        if path.startswith("library/") and rnd.random() < 0.5:
            path = path[len("library/"):]
        if not registry and "/" not in path and rnd.random() < 0.5:
            path = "library/" + path
    else:
        registry = host + ("." if rnd.random() < 0.2 and not host[0].isdigit() and host != "localhost" else "")
        written = port if port is not None else (rnd.choice(("443", "80")) if rnd.random() < 0.4 else None)
        if written is not None:
            registry += ":" + "0" * rnd.randint(0, 3) + written
        registry = random_case(rnd, registry) if host != "localhost" or ":" in registry else registry
    ref = (registry + "/" if registry else "") + path
    if rnd.random() < 0.6:
        ref += ":" + rnd.choice(("1.27", "latest", "v2.0-rc1", "8443", "0443"))
    if rnd.random() < 0.4:
        ref += "@sha256:" + "%064x" % rnd.getrandbits(256)
    return ref


def random_repository(rnd):
    if rnd.random() < 0.35:
        return (None, None, rnd.choice(NAMES))
    host = rnd.choice(HOSTS)
    port = rnd.choice((None, None, "5000", "8443", "4430"))
    if host == "localhost" and port is None:
        port = "5000"  # a bare "localhost/x" needs no port, but keep the registry unambiguous
    return (host, port, rnd.choice(NAMES))


def test_python_and_spl_agree_on_random_spellings_and_keep_repositories_apart():
    rnd = random.Random(20)
    spl = spl_normalize()
    repositories = list({random_repository(rnd) for _ in range(300)})
    canonical = {}
    for repo in repositories:
        values = set()
        for _ in range(12):
            ref = spelling(rnd, repo)
            python_value, spl_value = imageref.repository(ref), spl(ref)
            assert python_value == spl_value, (ref, python_value, spl_value)
            values.add(python_value)
        assert len(values) == 1, (repo, values)
        canonical[repo] = values.pop()
    # different repositories stay different (a port other than 443/80 is another registry)
    assert len(set(canonical.values())) == len(canonical), canonical


@pytest.mark.parametrize("written, expected", [
    ("registry.example.com:0443/shop/cart:2.0", "registry.example.com/shop/cart"),
    ("registry.example.com:00080/shop/cart", "registry.example.com/shop/cart"),
    ("registry.example.com:05000/shop/cart", "registry.example.com:5000/shop/cart"),
    ("Registry.Example.COM.:443/shop/cart", "registry.example.com/shop/cart"),
    ("registry.example.com/shop/cart:2.0@sha256:" + "b" * 64, "registry.example.com/shop/cart"),
    ("INDEX.docker.io:0443/nginx:1.27", "docker.io/library/nginx"),
    ("localhost:0/a", "localhost:0/a"),
    ("[::1]:0443/a/b", "[::1]/a/b"),
])
def test_ports_with_leading_zeros_trailing_dots_tag_and_digest(written, expected):
    assert imageref.repository(written) == spl_normalize()(written) == expected


@pytest.mark.parametrize("allowed", [
    "registry.example.com:0443/shop/cart:2.0",
    "registry.example.com:00080/shop/cart:2.0",
    "REGISTRY.example.com.:0443/shop/cart:2.1@sha256:" + "c" * 64,
])
def test_denied_then_allowed_catches_a_port_written_with_leading_zeros(tmp_path, allowed):
    """Before: only ``:443`` and ``:80`` were default ports, so ``:0443`` (dialled as 443) was
    another repository and the swap raised no alert."""
    events = [ev("12:01:00", "image_attestation", verdict="Denied", subject_digest=IMG, image_digest=IMG,
                 image_ref="registry.example.com/shop/cart:2.0", k8s_namespace="shop-prod", slsa_level=3),
              ev("12:05:00", "image_attestation", verdict="Allowed", subject_digest=IMG2, image_digest=IMG2,
                 image_ref=allowed, k8s_namespace="shop-prod", slsa_level=3)]
    result = engine.replay(make_scenario(tmp_path, "s", events))
    assert [(a["detection_id"], a["image_digest"], a["denied_digest"]) for a in result.alerts] == [
        ("claw_denied_then_allowed", IMG2, IMG)]
