"""The repository an image reference names, normalized: one function in Python, one macro in SPL.

Image references are written by whoever writes the pod spec, so a detection
that compares them must compare what they resolve to, not the string. The rules
follow Docker's reference normalization (``splitDockerDomain`` in
https://github.com/distribution/reference/blob/main/normalize.go):

- the first path component is the registry only when it contains ``.`` or
  ``:``, is ``localhost``, or has an upper-case letter; otherwise the registry
  is Docker Hub, ``docker.io``; ``index.docker.io`` is ``docker.io``;
- a Docker Hub repository without a namespace gets ``library/``
  (``nginx`` = ``docker.io/library/nginx``).

Beyond Docker (which keeps them distinct names), for comparison only:

- the registry host is lower-cased (DNS names are case-insensitive), a
  trailing dot (the fully qualified spelling of the same DNS name) is
  dropped, and ``registry-1.docker.io`` (Docker Hub's API host) is ``docker.io``;
- a port is a number: leading zeros are dropped (``:0443`` is dialled as port
  443), then the default ports ``:443`` and ``:80``: ``registry:443`` is the
  same HTTPS endpoint as ``registry`` (the OCI distribution API is HTTP(S));
  any other port is another registry;
- the repository path is lower-cased: the reference grammar allows only
  lower case there, so an upper-case path is a forged spelling, not another
  repository;
- the tag and the digest are removed, either or both (the comparison is by
  repository).

``repository(ref)`` and the macro ``claw_normalize_image_ref(1)`` (the eval
expression ``spl_expression()`` builds) give the same value; a test evaluates
the macro with the SPL emulator against attacker spellings.
"""
import re

_DIGEST = re.compile(r"@[A-Za-z0-9+._-]+:[A-Za-z0-9=_-]+$")
_TAG = re.compile(r":[^:/]*$")
# A first component that names a registry (Docker's rule).
_HAS_REGISTRY = re.compile(r"^(localhost|[^/]*[.:][^/]*|[^/]*[A-Z][^/]*)/")
_PORT_ZEROS = re.compile(r":0+(?=[0-9]+$)")  # ":0443" -> ":443", ":0" stays
_DEFAULT_PORT = re.compile(r":(443|80)$")
_TRAILING_DOTS = re.compile(r"[.]+(?=(:[0-9]+)?$)")  # "host.:5000" -> "host:5000"
_DOCKER_HUB = re.compile(r"^(index|registry-1)[.]docker[.]io$")


def repository(ref):
    """``registry/path`` of ``ref``, normalized (see the module doc); None for None."""
    if ref is None:
        return None
    name = _TAG.sub("", _DIGEST.sub("", ref))
    if _HAS_REGISTRY.match(name):
        registry, path = name.split("/", 1)
    else:
        registry, path = "docker.io", name
    registry = _PORT_ZEROS.sub(":", registry.lower())
    registry = _DOCKER_HUB.sub("docker.io", _TRAILING_DOTS.sub("", _DEFAULT_PORT.sub("", registry)))
    path = path.lower()
    if registry == "docker.io" and "/" not in path:
        path = "library/" + path
    return registry + "/" + path


def spl_expression(arg):
    """The eval expression of ``repository`` over the field or expression ``arg``.

    The regexes are the Python ones above, written without backslashes so the
    SPL strings need no escaping."""
    ref = ('replace(replace(%s, "@[A-Za-z0-9+._-]+:[A-Za-z0-9=_-]+$", ""), ":[^:/]*$", "")' % arg)
    has_registry = 'match(%s, "^(localhost|[^/]*[.:][^/]*|[^/]*[A-Z][^/]*)/")' % ref
    host = 'replace(lower(if(%s, replace(%s, "/.*$", ""), "docker.io")), ":0+(?=[0-9]+$)", ":")' % (
        has_registry, ref)
    registry = ('replace(replace(replace(%s, ":(443|80)$", ""), "[.]+(?=(:[0-9]+)?$)", ""), '
                '"^(index|registry-1)[.]docker[.]io$", "docker.io")' % host)
    path = 'lower(if(%s, replace(%s, "^[^/]*/", ""), %s))' % (has_registry, ref, ref)
    return ('%s . "/" . if(%s=="docker.io" AND NOT match(%s, "/"), "library/", "") . %s'
            % (registry, registry, path, path))
