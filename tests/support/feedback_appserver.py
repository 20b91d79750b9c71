"""A stand-in for splunkd's persistent handler driver (persistconn/appserver.py), run as a process.

restmap.conf ``scripttype = persist`` runs the handler script inside a driver
process that splunkd talks to over stdin/stdout. This file plays that driver,
following the packet format of Splunk's own ``splunk/persistconn`` package
(packet.py, handle_loop.py, appserver.py; a copy is in the public repository
vncloudsco/splunk, lib/python3.7/site-packages/splunk/persistconn/):

- request packet: one opcode byte (0x01 start, 0x02 block, 0x04 end; newlines
  before it are skipped); on start, the number of command pieces and each
  piece, then the command argument, every string as ``<length>\\n<bytes>``;
  with a block, the block as such a string;
- reply: ``<length>\\n<bytes>``: after a start the empty string (success) or
  an error text; after a block what ``handle()`` returned, a dict as compact
  JSON;
- the script is loaded from ``command[0]``; its one class deriving from a class
  named PersistentServerConnectionApplication (matched by name) is built with
  ``(command[1:], command_arg)``; ``done()`` is called at the end packet.

It also provides ``splunk.persistconn.application`` as splunkd's Python does,
so the script's own import of it is the one exercised.
"""
import importlib.util
import inspect
import json
import os
import sys
import types

INIT, BLOCK, END = 0x01, 0x02, 0x04


class PersistentServerConnectionApplication(object):
    def __init__(self):
        pass

    def done(self):
        pass


def _install_splunk_modules():
    application = types.ModuleType("splunk.persistconn.application")
    application.PersistentServerConnectionApplication = PersistentServerConnectionApplication
    persistconn = types.ModuleType("splunk.persistconn")
    persistconn.application = application
    splunk = types.ModuleType("splunk")
    splunk.persistconn = persistconn
    sys.modules.update({"splunk": splunk, "splunk.persistconn": persistconn,
                        "splunk.persistconn.application": application})


def _line(stream):
    data = b""
    while True:
        char = stream.read(1)
        if not char:
            raise EOFError
        if char == b"\n":
            if data:
                return data
            continue
        data += char


def _string(stream):
    return stream.read(int(_line(stream)))


def _write(out, data):
    if isinstance(data, dict):
        data = json.dumps(data, separators=(",", ":"))
    if isinstance(data, str):
        data = data.encode("utf-8")
    out.write(b"%d\n" % len(data))
    out.write(data)


def _load(path):
    name = "pschand__" + "".join(c if c.isalnum() else "_" for c in os.path.basename(path)[:-3])
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def is_handler(obj):
        return (inspect.isclass(obj) and obj.__name__ != "PersistentServerConnectionApplication"
                and any(c.__name__ == "PersistentServerConnectionApplication" for c in obj.mro()))
    classes = inspect.getmembers(module, is_handler)
    if len(classes) != 1:
        raise RuntimeError("expected one handler class, found %d" % len(classes))
    return classes[0][1]


def main():
    _install_splunk_modules()
    stream, out = sys.stdin.buffer, sys.stdout.buffer
    cache, handler = {}, None
    while True:
        opcode = stream.read(1)
        while opcode == b"\n":
            opcode = stream.read(1)
        if not opcode:
            return
        opcode = ord(opcode)
        if opcode & INIT:
            command = [_string(stream).decode() for _ in range(int(_line(stream)))]
            argument = _string(stream).decode() or None
            if command[0] not in cache:
                cache[command[0]] = _load(command[0])
            cls = cache[command[0]]
            handler = cls.__new__(cls)
            handler.__init__(command[1:], argument)
            _write(out, "")
        if opcode & BLOCK:
            reply = handler.handle(_string(stream))
            _write(out, reply if reply is not None else "")
        if opcode & END:
            handler.done()
            handler = None
        out.flush()


if __name__ == "__main__":
    main()
