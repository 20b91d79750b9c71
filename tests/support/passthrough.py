"""A plain splunklib StreamingCommand that passes records through unchanged.

The baseline the benchmarks compare the add-on's commands against: the same
vendored splunklib, the same protocol, no work per record.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "TA-claw-runtime", "bin"))

from splunklib.searchcommands import Configuration, StreamingCommand, dispatch  # noqa: E402


@Configuration()
class PassthroughCommand(StreamingCommand):
    def stream(self, records):
        for record in records:
            yield record


dispatch(PassthroughCommand, sys.argv, sys.stdin, sys.stdout, __name__)
