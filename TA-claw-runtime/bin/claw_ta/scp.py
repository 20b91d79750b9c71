"""The execute loop of SCP v2 ("chunked") for commands that replace splunklib's record loop.

splunklib's ``_execute_v2`` turns every record into a dict. A command that
reads the CSV body itself overrides ``_execute_v2`` and iterates
:func:`execute_chunks`, which does what splunklib's loop does around each
chunk: parse the transport header and metadata, refuse other actions, set
``_finished`` and mark the record writer unflushed (so that a chunk that
fails is still answered: splunklib's ``finish()`` sends the ERROR message in
a last chunk), then give the body as bytes, read whole (the input stays in
step even when the chunk fails).
"""
import re

_HEADER = re.compile(r"chunked\s+1.0\s*,\s*(\d+)\s*,\s*(\d+)\s*\n")


def execute_chunks(command, ifile):
    """Yield (metadata, body bytes) for each execute chunk splunkd sends ``command``."""
    from splunklib.searchcommands.internals import MetadataDecoder
    istream = command._as_binary_stream(ifile)
    while True:
        header = istream.readline()
        if not header:
            return
        match = _HEADER.match(header.decode("ascii", "replace"))
        if match is None:
            raise RuntimeError("Failed to parse transport header: %r" % header[:100])
        meta_length, body_length = int(match.group(1)), int(match.group(2))
        metadata = MetadataDecoder().decode(istream.read(meta_length).decode("utf-8"))
        action = getattr(metadata, "action", None)
        if action != "execute":
            raise RuntimeError("Expected execute action, not %s" % action)
        command._finished = getattr(metadata, "finished", False)
        command._record_writer.is_flushed = False
        command._metadata.update(metadata)
        yield metadata, istream.read(body_length)
