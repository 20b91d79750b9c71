"""The base class of splunkd persistent REST handlers, for use outside splunkd.

Inside splunkd, ``bin/claw_review.py`` imports the real one from
``splunk.persistconn.application``; splunkd's driver (``persistconn/appserver.py``)
loads the script, finds the one class deriving from a class of this name,
builds it with ``(command_line, command_arg)`` and calls ``handle(in_string)``
once per request, writing back the returned object as JSON.
"""


class PersistentServerConnectionApplication(object):
    def __init__(self, command_line=None, command_arg=None):
        pass

    def handle(self, in_string):
        raise NotImplementedError("handle")

    def done(self):
        pass
