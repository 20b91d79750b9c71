"""Sampling library loads without losing first sightings.

Library loads are the flood (tens per process start). Random 1-in-N sampling
loses the one-off load of an injected library with probability 1 - 1/N. The
first-sighting sampler keeps every event whose key (subject_digest,
library_path, library_digest) it has not seen yet and 1 in N of the repeats,
so every distinct load (what the unlisted-library and writable-path
detections decide on) survives, while the repeats that dominate the volume
are thinned. Other event types are always kept (they are few). The set of seen
keys is bounded (``max_keys``): when full it is cleared, which can only keep
more events, never fewer first sightings.

The same idea at collection time: a Fluent Bit Lua filter or the runtime's own
de-duplication keyed on the same three fields.
"""
import zlib

KEY_FIELDS = ("subject_digest", "library_path", "library_digest")


def first_sighting_sampler(ratio, max_keys=1000000):
    """A predicate event -> keep? that keeps first sightings and 1 in ``ratio`` repeats."""
    seen = set()
    counter = [0]

    def keep(event):
        if event.get("event_type") != "library_load" or ratio <= 1:
            return True
        key = tuple(event.get(f) for f in KEY_FIELDS)
        if key not in seen:
            if len(seen) >= max_keys:
                seen.clear()
            seen.add(key)
            return True
        counter[0] += 1
        return counter[0] % ratio == 0
    return keep


def random_sampler(ratio, seed=0):
    """Plain 1-in-``ratio`` sampling of library loads (deterministic per event_id), for comparison."""
    def keep(event):
        if event.get("event_type") != "library_load" or ratio <= 1:
            return True
        key = (event.get("event_id") or repr(sorted(event.items()))).encode("utf-8", "replace")
        return (zlib.crc32(key) ^ seed) % ratio == 0
    return keep


def _ratio(text):
    import argparse
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError("must be a whole number >= 1, not %r" % text)
    return value


def add_sampling_arguments(parser):
    parser.add_argument("--sample", type=_ratio, default=1, metavar="N",
                        help="keep 1 in N library_load events (default 1: all)")
    parser.add_argument("--sample-mode", choices=("first-sighting", "random"), default="first-sighting",
                        help="first-sighting (default) keeps every distinct load; random does not")


def sampler_from_args(args):
    ratio = getattr(args, "sample", 1)
    if ratio == 1:
        return None
    if getattr(args, "sample_mode", "first-sighting") == "random":
        return random_sampler(ratio)
    return first_sighting_sampler(ratio)

