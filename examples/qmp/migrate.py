#!/usr/bin/env python3
"""Drive a Godwit live migration between two hosts over QMP, the QEMU Machine Protocol.

Standard library only, written to QEMU's QMP specification (docs/interop/qmp-spec.rst), so the same
steps drive QEMU. The destination VM must wait for its source (vm_create NAME --incoming defer), and
both VMs must serve QMP (vm_create ... --qmp unix:PATH, or qmp_add NAME unix:PATH).

  migrate.py migrate --source unix:/run/a.qmp --destination unix:/run/b.qmp --uri unix:/run/mig.sock \
      [--capability NAME=on|off]... [--downtime-limit MS] [--max-bandwidth BYTES_PER_S] [--check] \
      [--tls-source-dir DIR --tls-destination-dir DIR [--tls-hostname NAME] [--tls-authz DN]]

sets the capabilities (events always) on both sides and the parameters on the source, starts the
destination listening (migrate-incoming) and the source sending (migrate), waits for the source's
MIGRATION event with status completed, then prints query-migrate. With --check it stops the destination
and runs the guest's oracle there (vm_check through human-monitor-command); exit status 1 if a page is bad.
With the two TLS folders (QEMU's PEM names) it does what libvirt does for a TLS migration: object-add
tls-creds-x509 on both sides (and authz-simple on the destination with --tls-authz), migrate-set-parameters
tls-creds (tls-hostname on the source, tls-authz on the destination), and object-del once it ended.

  migrate.py probe --qmp unix:/run/a.qmp

checks the server's failure paths against the specification: commands before qmp_capabilities,
unknown commands, missing and wrong-typed arguments, garbage, a huge line, a client that closes
mid-command; the VM must be in the state it was in and the server must answer afterwards. Exit
status 1 on a deviation.
"""

import argparse
import json
import socket
import sys
import time


class QmpError(Exception):
    def __init__(self, reply):
        self.error_class = reply["error"]["class"]
        self.desc = reply["error"]["desc"]
        super().__init__(f"{self.error_class}: {self.desc}")


class Qmp:
    """One QMP connection: greeting, negotiation, commands, and the events that arrive meanwhile."""

    def __init__(self, address, negotiate=True, timeout=60.0):
        self.address = address
        self.sock = connect(address, timeout)
        self.file = self.sock.makefile("rb")
        self.events = []
        self.greeting = self._read()
        if "QMP" not in self.greeting:
            raise RuntimeError(f"{address}: not a QMP greeting: {self.greeting}")
        if negotiate:
            self.execute("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise ConnectionError(f"{self.address}: the server closed the connection")
        return json.loads(line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def reply(self):
        """The next reply; events read on the way are kept for wait_event."""
        while True:
            message = self._read()
            if "return" in message or "error" in message:
                return message
            if "event" in message:
                self.events.append(message)

    def request(self, command, arguments=None, id=None):
        message = {"execute": command}
        if arguments is not None:
            message["arguments"] = arguments
        if id is not None:
            message["id"] = id
        self.send_raw(json.dumps(message).encode() + b"\n")
        return self.reply()

    def execute(self, command, arguments=None):
        reply = self.request(command, arguments)
        if "error" in reply:
            raise QmpError(reply)
        return reply["return"]

    def wait_event(self, name, accept=lambda e: True, timeout=120.0):
        deadline = time.monotonic() + timeout
        while True:
            for event in self.events:
                if event["event"] == name and accept(event):
                    self.events.remove(event)
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.address}: no {name} event within {timeout} s")
            self.sock.settimeout(left)
            try:
                message = self._read()
            finally:
                self.sock.settimeout(None)
            if "event" in message:
                self.events.append(message)

    def close(self):
        self.file.close()
        self.sock.close()


def connect(address, timeout):
    if address.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(address[len("unix:"):])
    elif address.startswith("tcp:"):
        host, _, port = address[len("tcp:"):].rpartition(":")
        sock = socket.create_connection((host, int(port)), timeout)
    else:
        raise ValueError(f"a QMP address is unix:PATH or tcp:HOST:PORT, not {address!r}")
    sock.settimeout(None)
    return sock


FINAL = ("completed", "failed", "cancelled")


def migrate(args):
    source, destination = Qmp(args.source), Qmp(args.destination)
    capabilities = [{"capability": "events", "state": True}]
    for setting in args.capability:
        name, _, state = setting.partition("=")
        capabilities.append({"capability": name, "state": state in ("on", "true", "")})
    for side in (source, destination):
        side.execute("migrate-set-capabilities", {"capabilities": capabilities})
    parameters = {}
    if args.downtime_limit is not None:
        parameters["downtime-limit"] = args.downtime_limit
    if args.max_bandwidth is not None:
        parameters["max-bandwidth"] = args.max_bandwidth
    if parameters:
        source.execute("migrate-set-parameters", parameters)
    print("parameters:", json.dumps(source.execute("query-migrate-parameters"), sort_keys=True))

    tls = add_tls(source, destination, args)
    destination.execute("migrate-incoming", {"uri": args.uri})
    source.execute("migrate", {"uri": args.uri})
    event = source.wait_event("MIGRATION", lambda e: e["data"]["status"] in FINAL, args.timeout)
    passes = [e["data"]["pass"] for e in source.events if e["event"] == "MIGRATION_PASS"]
    status = event["data"]["status"]
    info = source.execute("query-migrate")
    print("migration", status, "after passes", passes)
    print("query-migrate:", json.dumps(info, sort_keys=True))
    if status != "completed":
        print("error:", info.get("error-desc", "no reason given"), file=sys.stderr)
        return 1
    destination.wait_event("MIGRATION", lambda e: e["data"]["status"] in FINAL, args.timeout)
    print("destination:", json.dumps(destination.execute("query-status"), sort_keys=True))
    for side, ids in tls:
        for id in ids:
            side.execute("object-del", {"id": id})
    if tls:
        print("tls objects deleted")
    if args.check:
        destination.execute("stop")
        name = destination.execute("query-name")["name"]
        verdict = destination.execute("human-monitor-command", {"command-line": f"vm_check {name}"})
        print(verdict, end="")
        if "bad pages:     0\n" not in verdict:
            return 1
    source.close()
    destination.close()
    return 0


TLS_CREDS = "objmigrate_tls0"  # one id on both hosts, as libvirt's objlibvirt_migrate_tls0
TLS_AUTHZ = "objmigrate_authz0"


def add_tls(source, destination, args):
    """QEMU's TLS objects and parameters on both sides; returns the objects to delete afterwards."""
    if not args.tls_source_dir and not args.tls_destination_dir:
        return []
    if not (args.tls_source_dir and args.tls_destination_dir):
        raise SystemExit("--tls-source-dir and --tls-destination-dir go together")
    destination.execute("object-add", {"qom-type": "tls-creds-x509", "id": TLS_CREDS,
                                       "dir": args.tls_destination_dir, "endpoint": "server", "verify-peer": True})
    incoming = {"tls-creds": TLS_CREDS}
    created = [TLS_CREDS]
    if args.tls_authz:
        destination.execute("object-add", {"qom-type": "authz-simple", "id": TLS_AUTHZ, "identity": args.tls_authz})
        incoming["tls-authz"] = TLS_AUTHZ
        created.append(TLS_AUTHZ)
    destination.execute("migrate-set-parameters", incoming)
    source.execute("object-add", {"qom-type": "tls-creds-x509", "id": TLS_CREDS,
                                  "dir": args.tls_source_dir, "endpoint": "client", "verify-peer": True})
    outgoing = {"tls-creds": TLS_CREDS}
    if args.tls_hostname:
        outgoing["tls-hostname"] = args.tls_hostname
    source.execute("migrate-set-parameters", outgoing)
    print("tls:", json.dumps(outgoing, sort_keys=True), "->", json.dumps(incoming, sort_keys=True))
    return [(source, [TLS_CREDS]), (destination, created)]


def probe(args):
    failures = []

    def expect(what, reply, error_class, desc_start=""):
        ok = ("error" in reply and reply["error"]["class"] == error_class
              and reply["error"]["desc"].startswith(desc_start))
        print("ok  " if ok else "FAIL", what, json.dumps(reply))
        if not ok:
            failures.append(what)

    early = Qmp(args.qmp, negotiate=False)
    expect("command before qmp_capabilities", early.request("query-status"), "CommandNotFound",
           "Expecting capabilities negotiation with 'qmp_capabilities'")
    early.close()

    qmp = Qmp(args.qmp)
    before = qmp.execute("query-status")
    expect("unknown command", qmp.request("no-such-command", id="x1"), "CommandNotFound",
           "The command no-such-command has not been found")
    expect("missing argument", qmp.request("migrate", {}), "GenericError", "Parameter 'uri' is missing")
    expect("wrong-typed argument", qmp.request("migrate", {"uri": "unix:/nowhere", "detach": "yes"}),
           "GenericError", "Invalid parameter type for 'detach', expected: boolean")
    qmp.send_raw(b"this is not JSON\n")
    expect("garbage", qmp.reply(), "GenericError", "JSON parse error")
    qmp.send_raw(b"{" * (2 << 20) + b"\n")
    expect("huge line", qmp.reply(), "GenericError", "QMP input line longer than")

    for n in range(5):  # clients that go away in the middle of a command
        gone = Qmp(args.qmp)
        gone.send_raw(b'{"execute": "query-migr')
        gone.close()

    after = qmp.execute("query-status")
    print("ok  " if after == before else "FAIL", "the VM is as it was:", json.dumps(after))
    if after != before:
        failures.append("the VM's state changed")
    qmp.close()
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("migrate", help="migrate a VM from --source to --destination")
    m.add_argument("--source", required=True, help="the source VM's QMP address")
    m.add_argument("--destination", required=True, help="the destination VM's QMP address")
    m.add_argument("--uri", required=True, help="where the destination listens, e.g. tcp:127.0.0.1:4444")
    m.add_argument("--capability", action="append", default=[], help="NAME=on|off, on both sides")
    m.add_argument("--downtime-limit", type=int, help="ms")
    m.add_argument("--max-bandwidth", type=int, help="bytes per second")
    m.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the migration")
    m.add_argument("--check", action="store_true", help="run the guest's oracle on the destination")
    m.add_argument("--tls-source-dir", help="the source's folder of PEM files (ca-cert.pem, client-cert.pem, ...)")
    m.add_argument("--tls-destination-dir", help="the destination's folder (ca-cert.pem, server-cert.pem, ...)")
    m.add_argument("--tls-hostname", help="the name the destination's certificate must carry (needed for unix:)")
    m.add_argument("--tls-authz", help="the only client certificate subject the destination lets in, a DN")
    p = sub.add_parser("probe", help="check the server's failure paths")
    p.add_argument("--qmp", required=True, help="a VM's QMP address")
    args = parser.parse_args()
    return migrate(args) if args.mode == "migrate" else probe(args)


if __name__ == "__main__":
    sys.exit(main())
