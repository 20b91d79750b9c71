"""A plain splunklib StreamingCommand that passes records through unchanged.

The baseline the benchmarks compare the add-on's commands against: the same
splunklib the app ships, the same protocol, no work per record.
"""
import os
import sys

# splunklib from the built app (claw_ta_tools.package.built_app sets CLAW_BUILT_APP for its children),
# the copy for this interpreter, chosen as the app's own scripts choose it (claw_ta.sdk)
sys.path.insert(0, os.path.join(os.environ["CLAW_BUILT_APP"], "bin"))

from claw_ta.sdk import use_splunklib  # noqa: E402

use_splunklib()

from splunklib.searchcommands import Configuration, StreamingCommand, dispatch  # noqa: E402


@Configuration()
class PassthroughCommand(StreamingCommand):
    def stream(self, records):
        for record in records:
            yield record


dispatch(PassthroughCommand, sys.argv, sys.stdin, sys.stdout, __name__)
