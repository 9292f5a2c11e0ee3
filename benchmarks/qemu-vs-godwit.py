#!/usr/bin/env python3
"""QEMU 7.2 and Godwit side by side: the same migrations on the same machine, alternating (issue 16).

  benchmarks/qemu-vs-godwit.py [--runs N] [--scenarios LIST] [--home DIR] [--qemu PATH] [--keep-logs DIR]

Scenarios (default all): static-tcp, static-tcp-prealloc, static-unix, idle-tcp, sweep-512m-ac, sweep-16m,
static-tls-tcp, static-tls-tcp-prealloc (issue 15: static-tcp and static-tcp-prealloc with TLS on both
ends, x509 certificates openssl makes for the run, EC P-256, the destination's for 127.0.0.1, verify-peer
on; QEMU's GnuTLS against Godwit's JDK TLS; run each with its plain twin for the TLS / plain ratio of
each system, run by run: e.g. --scenarios static-tcp-prealloc,static-tls-tcp-prealloc).
For each scenario, N times (default 5), one QEMU migration and one Godwit migration, the order swapped
from run to run, then the medians with min..max and the load average of the scenario's runs.

QEMU: qemu-system-x86_64 from Debian's package (`apt-get install -y qemu-system-x86`; without it the
script prints one line saying so and exits 0), TCG (`-machine pc -cpu qemu64 -smp 1 -m 1G`), a fresh
source and destination process per run, driven over QMP. The guest is a boot sector written below as
machine code bytes (as QEMU's tests/migration a-b-bootblock): real mode to flat 32-bit protected mode,
then it fills RAM above 1 MiB with a pattern and each page's address and halts (static), halts at once
(idle), or increments the first byte of every page of its working set forever (sweep). Its serial line
says when it got there. The destination starts with -S, so it stays paused after the migration and its
RAM must equal the stopped source's byte for byte: both are read (1 MiB to the end of RAM, from each
QEMU's RAM mapping through /proc/PID/mem, so root; pmemsave took 15-35 s per GiB here) and compared, and a
static destination is checked against the pattern too.

Godwit: two host daemons from the host home (default: ./godwit home) for the whole run, one VM of the
same shape per migration (1 vCPU, workload fill, idle or sweep:SIZE), migrated over QMP with the same
client and the same parameters; the destination is stopped and checked by its oracle (vm_check).

Both: 127.0.0.1 tcp or a unix socket in a private folder, max-bandwidth unlimited, downtime-limit 300 ms,
auto-converge where the scenario says. Figures are each system's own query-migrate on the source:
total-time and downtime (and Godwit's observed downtime, source stop to destination resume).
"""

import argparse
import os
import pathlib
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time

here = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent / "examples" / "qmp"))
import migrate as qmp  # noqa: E402  (the example's client, standard library only; speaks to QEMU too)

GIB = 1 << 30
MIB = 1 << 20
LIMIT_MS = 300
PATTERN = 0x5A5AA5A5
GIVE_UP_S = 120

# id: (label, transport, workload kind, working set bytes or None, destination preallocated, auto-converge)
SCENARIOS = {
    "static-tcp": ("static 1 GiB, tcp", "tcp", "static", None, False, False),
    "static-tcp-prealloc": ("static 1 GiB, tcp, destination preallocated", "tcp", "static", None, True, False),
    "static-unix": ("static 1 GiB, unix", "unix", "static", None, False, False),
    "idle-tcp": ("idle 1 GiB, tcp", "tcp", "idle", None, False, False),
    "sweep-512m-ac": ("512 MiB working set, auto-converge, tcp", "tcp", "sweep", 512 * MIB, False, True),
    "sweep-16m": ("16 MiB working set, tcp", "tcp", "sweep", 16 * MIB, False, False),
    "static-tls-tcp": ("static 1 GiB, tcp, TLS", "tcp", "static", None, False, False),
    "static-tls-tcp-prealloc": ("static 1 GiB, tcp, TLS, destination preallocated", "tcp", "static", None, True, False),
}
# Scenarios with tls-creds tls0 on both ends (QEMU: -object tls-creds-x509; Godwit: object_add), each
# with the scenario it is compared with.
TLS = {"static-tls-tcp": "static-tcp", "static-tls-tcp-prealloc": "static-tcp-prealloc"}

# ---- the QEMU guest: a boot sector assembled by hand ------------------------------------------------

ORG = 0x7C00
PARAMS = 0x1E0  # START, END, MODE, PATTERN: little-endian dwords in the sector, read by the code
MODES = {"idle": 0, "static": 1, "sweep": 2}
MARKS = {"idle": b"I", "static": b"D", "sweep": b"B"}


def boot_sector(mode, start, end, pattern=PATTERN):
    """512 bytes: cli, lgdt, A20 through port 0x92, CR0.PE, far jump to flat 32-bit code, then MODE:
    idle prints 'I' on COM1 and halts; static fills [start, end) with PATTERN (rep stosd), writes each
    page's address into its first dword, prints 'D', halts; sweep increments the first byte of every page
    of [start, end) pass after pass, and prints 'B' once, after the first pass."""
    code, labels, fixups = bytearray(), {}, []

    def emit(*parts):
        for p in parts:
            code.extend(p if isinstance(p, (bytes, bytearray)) else bytes([p]))

    def label(name):
        labels[name] = len(code)

    def rel8(opcode, name):  # a short jump, its displacement fixed up at the end
        emit(opcode)
        fixups.append((len(code), name))
        emit(0)

    def abs16(name):
        fixups.append((len(code), "abs16:" + name))
        emit(0, 0)

    def param(i):
        return struct.pack("<I", ORG + PARAMS + 4 * i)

    # 16-bit real mode, loaded at 0000:7C00
    emit(0xFA)                                    # cli
    emit(0x31, 0xC0, 0x8E, 0xD8)                  # xor ax,ax; mov ds,ax
    emit(0x0F, 0x01, 0x16), abs16("gdtdesc")      # lgdt [gdtdesc]
    emit(0xE4, 0x92, 0x0C, 0x02, 0xE6, 0x92)      # in al,0x92; or al,2; out 0x92,al: A20 on
    emit(0x0F, 0x20, 0xC0, 0x0C, 0x01)            # mov eax,cr0; or al,1
    emit(0x0F, 0x22, 0xC0)                        # mov cr0,eax
    emit(0xEA), abs16("pm32"), emit(0x08, 0x00)   # jmp 0x08:pm32
    # 32-bit protected mode, flat segments
    label("pm32")
    emit(0x66, 0xB8, 0x10, 0x00)                  # mov ax,0x10
    emit(0x8E, 0xD8, 0x8E, 0xC0, 0x8E, 0xD0)      # mov ds,ax; mov es,ax; mov ss,ax
    emit(0x8B, 0x35, param(0))                    # mov esi,[START]
    emit(0x8B, 0x2D, param(1))                    # mov ebp,[END]
    emit(0x8B, 0x1D, param(2))                    # mov ebx,[MODE]
    emit(0x83, 0xFB, 0x01), rel8(0x74, "static")  # cmp ebx,1; je static
    emit(0x83, 0xFB, 0x02), rel8(0x74, "sweep")   # cmp ebx,2; je sweep
    emit(0xB0, ord("I"))                          # mov al,'I'
    label("report")
    emit(0x66, 0xBA, 0xF8, 0x03, 0xEE)            # mov dx,0x3f8; out dx,al
    label("halt")
    emit(0xF4), rel8(0xEB, "halt")                # hlt; jmp halt
    label("static")
    emit(0x89, 0xF7, 0x89, 0xE9, 0x29, 0xF1)      # mov edi,esi; mov ecx,ebp; sub ecx,esi
    emit(0xC1, 0xE9, 0x02)                        # shr ecx,2
    emit(0xA1, param(3))                          # mov eax,[PATTERN]
    emit(0xFC, 0xF3, 0xAB)                        # cld; rep stosd
    emit(0x89, 0xF7)                              # mov edi,esi
    label("stamp")
    emit(0x89, 0x3F)                              # mov [edi],edi
    emit(0x81, 0xC7, struct.pack("<I", 4096))     # add edi,4096
    emit(0x39, 0xEF), rel8(0x72, "stamp")         # cmp edi,ebp; jb stamp
    emit(0xB0, ord("D")), rel8(0xEB, "report")    # mov al,'D'; jmp report
    label("sweep")
    emit(0x31, 0xDB)                              # xor ebx,ebx: passes done, 0 or 1
    label("pass")
    emit(0x89, 0xF7)                              # mov edi,esi
    label("page")
    emit(0xFE, 0x07)                              # inc byte [edi]
    emit(0x81, 0xC7, struct.pack("<I", 4096))     # add edi,4096
    emit(0x39, 0xEF), rel8(0x72, "page")          # cmp edi,ebp; jb page
    emit(0x85, 0xDB), rel8(0x75, "pass")          # test ebx,ebx; jnz pass
    emit(0x43)                                    # inc ebx
    emit(0xB0, ord("B"), 0x66, 0xBA, 0xF8, 0x03, 0xEE)  # mov al,'B'; mov dx,0x3f8; out dx,al
    rel8(0xEB, "pass")                            # jmp pass
    while len(code) % 8:
        emit(0)
    label("gdt")  # null; code 0x08 and data 0x10: base 0, limit 4 GiB, 32-bit
    emit(bytes(8), bytes.fromhex("FFFF0000009ACF00"), bytes.fromhex("FFFF00000092CF00"))
    label("gdtdesc")
    emit(struct.pack("<HI", 23, ORG + labels["gdt"]))
    for at, name in fixups:
        if name.startswith("abs16:"):
            struct.pack_into("<H", code, at, ORG + labels[name[6:]])
        else:
            delta = labels[name] - (at + 1)
            assert -128 <= delta <= 127, name
            code[at] = delta & 0xFF
    assert len(code) <= PARAMS
    sector = bytearray(512)
    sector[:len(code)] = code
    struct.pack_into("<IIII", sector, PARAMS, start, end, MODES[mode], pattern)
    sector[510:] = b"\x55\xAA"
    return bytes(sector)


# ---- helpers -----------------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, test, timeout):
    deadline = time.monotonic() + timeout
    while not test():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not within {timeout} s")
        time.sleep(0.05)


def migrate(source, destination, uri, auto_converge, qemu, tls=False):
    """Capabilities and parameters on both, migrate-incoming, migrate; returns the source's query-migrate."""
    caps = [{"capability": "events", "state": True}]
    for side in (source, destination):
        side.execute("migrate-set-capabilities", {"capabilities": caps})
        if tls:
            side.execute("migrate-set-parameters", {"tls-creds": "tls0"})
    if auto_converge:
        source.execute("migrate-set-capabilities",
                       {"capabilities": [{"capability": "auto-converge", "state": True}]})
    params = {"downtime-limit": LIMIT_MS}
    if qemu:
        params["max-bandwidth"] = 100 * GIB  # QEMU's default is 128 MiB/s; Godwit's 0 is unlimited
    source.execute("migrate-set-parameters", params)
    destination.execute("migrate-incoming", {"uri": uri})
    source.execute("migrate", {"uri": uri})
    try:
        event = source.wait_event("MIGRATION", lambda e: e["data"]["status"] in qmp.FINAL, GIVE_UP_S)
    except TimeoutError:
        source.execute("migrate_cancel")
        source.wait_event("MIGRATION", lambda e: e["data"]["status"] in qmp.FINAL, 60)
        return {"status": "not converged", "error-desc": f"cancelled after {GIVE_UP_S} s"}
    info = source.execute("query-migrate")
    for _ in range(50):  # QEMU 7.2 says completed before it fills in total-time and downtime
        if event["data"]["status"] != "completed" or info.get("total-time", 0) > 0:
            break
        time.sleep(0.02)
        info = source.execute("query-migrate")
    if info["status"] == "completed":
        destination.wait_event("MIGRATION", lambda e: e["data"]["status"] in qmp.FINAL, 60)
    return info


class Result:
    def __init__(self, info, verdict):
        self.status = info.get("status")
        self.total = info.get("total-time")
        self.downtime = info.get("downtime")
        self.setup = info.get("setup-time")
        self.observed = info.get("x-godwit", {}).get("observed-downtime")
        self.passes = info.get("ram", {}).get("dirty-sync-count")
        self.mbps = info.get("ram", {}).get("mbps")
        self.error = info.get("error-desc")
        self.verdict = verdict

    def ok(self):
        return self.status == "completed" and self.verdict == "clean"

    def line(self):
        if self.status != "completed":
            return f"{self.status}: {self.error}"
        obs = f", observed {self.observed} ms" if self.observed is not None else ""
        return (f"total {self.total} ms, downtime {self.downtime} ms{obs}, setup {self.setup} ms, "
                f"passes {self.passes}, oracle {self.verdict}")


def make_pki(root):
    """A CA, a destination certificate for 127.0.0.1 and a source certificate, as docs/tls.md makes them
    (EC P-256): server/ and client/ for Godwit's tls-creds-x509, all/ with the five files for QEMU's."""
    def openssl(cwd, *args):
        subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)

    ca = root / "ca"
    ca.mkdir(parents=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(ca, "req", "-x509", *ec, "-keyout", "ca-key.pem", "-out", "ca-cert.pem", "-days", "2",
            "-subj", "/O=Godwit bench/CN=bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    (root / "all").mkdir()
    shutil.copy(ca / "ca-cert.pem", root / "all")
    for prefix, usage, san in (("server", "serverAuth", "subjectAltName=IP:127.0.0.1\n"), ("client", "clientAuth", "")):
        d = root / prefix
        d.mkdir()
        shutil.copy(ca / "ca-cert.pem", d)
        openssl(d, "req", "-new", *ec, "-keyout", f"{prefix}-key.pem", "-out", f"{prefix}.csr",
                "-subj", f"/O=Godwit bench/CN={prefix}")
        (d / f"{prefix}.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                                         f"extendedKeyUsage={usage}\n{san}")
        openssl(d, "x509", "-req", "-in", f"{prefix}.csr", "-CA", str(ca / "ca-cert.pem"), "-CAkey",
                str(ca / "ca-key.pem"), "-CAcreateserial", "-out", f"{prefix}-cert.pem", "-days", "2",
                "-extfile", f"{prefix}.ext")
        for f in (f"{prefix}-cert.pem", f"{prefix}-key.pem"):
            shutil.copy(d / f, root / "all")
    return root


# ---- QEMU --------------------------------------------------------------------------------------------

class Qemu:
    def __init__(self, binary, work, logs, pki):
        self.binary, self.work, self.logs, self.pki = binary, work, logs, pki

    def run(self, n, scenario):
        label, transport, kind, wss, prealloc, auto_converge = SCENARIOS[scenario]
        d = self.work / f"qemu-{n}"
        d.mkdir()
        end = GIB if kind != "sweep" else MIB + wss
        sector = boot_sector(kind, MIB, end)
        procs = {}
        try:
            for side in ("src", "dst"):
                image = d / f"{side}.img"  # one each: the disk is not migrated, and no image lock is shared
                image.write_bytes(sector)
                cmd = [self.binary, "-machine", "pc,accel=tcg", "-cpu", "qemu64", "-smp", "1", "-m", "1G",
                       "-nodefaults", "-display", "none", "-serial", f"file:{d}/{side}.serial",
                       "-drive", f"file={image},format=raw,if=ide",
                       "-qmp", f"unix:{d}/{side}.qmp,server=on,wait=off"]
                if side == "dst":
                    cmd += ["-incoming", "defer", "-S"] + (["-mem-prealloc"] if prealloc else [])
                if scenario in TLS:
                    endpoint = "server" if side == "dst" else "client"
                    cmd += ["-object", f"tls-creds-x509,id=tls0,dir={self.pki / 'all'},endpoint={endpoint}"]
                procs[side] = subprocess.Popen(cmd, stdout=open(d / f"{side}.log", "wb"), stderr=subprocess.STDOUT)
            wait_for("QEMU's QMP sockets", lambda: all((d / f"{s}.qmp").exists() for s in procs), 60)
            src, dst = qmp.Qmp(f"unix:{d}/src.qmp"), qmp.Qmp(f"unix:{d}/dst.qmp")
            serial = d / "src.serial"
            wait_for(f"the guest's '{MARKS[kind].decode()}'",
                     lambda: serial.exists() and MARKS[kind] in serial.read_bytes(), 300)
            if kind == "sweep":
                time.sleep(1)  # as Godwit's: the working set swept, the guest at its pace
            uri = f"unix:{d}/mig.sock" if transport == "unix" else f"tcp:127.0.0.1:{free_port()}"
            info = migrate(src, dst, uri, auto_converge, qemu=True, tls=scenario in TLS)
            verdict = self.check(procs, kind, end) if info["status"] == "completed" else "-"
            for q in (src, dst):
                try:
                    q.execute("quit")
                except (OSError, qmp.QmpError, ConnectionError):
                    pass
                q.close()
            return Result(info, verdict)
        finally:
            for p in procs.values():
                try:
                    p.wait(30)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            if self.logs:
                for f in d.glob("*.log"):
                    shutil.copy(f, self.logs / f"qemu-{n}-{f.name}")
            shutil.rmtree(d, ignore_errors=True)

    @staticmethod
    def check(procs, kind, end):
        """The destination (paused by -S) against the stopped source, 1 MiB to the end of RAM, byte for
        byte; a static guest's against its pattern too. Read from each QEMU's guest RAM mapping through
        /proc/PID/mem (as root; QMP's pmemsave takes 15-35 s per GiB here)."""
        mems = {side: (open(f"/proc/{p.pid}/mem", "rb", buffering=0), ram_address(p.pid)) for side, p in procs.items()}
        chunk = 16 * MIB
        bad = 0
        try:
            for addr in range(MIB, GIB, chunk):
                want = min(chunk, GIB - addr)
                x, y = (os.pread(f.fileno(), want, base + addr) for f, base in (mems["src"], mems["dst"]))
                if len(x) != want or len(y) != want:
                    raise RuntimeError(f"short read of guest RAM at {addr:#x}")
                if x != y:
                    bad += sum(1 for p in range(0, want, 4096) if x[p:p + 4096] != y[p:p + 4096])
                if kind == "static" and y != expected_static(addr, want, end):
                    bad += 1
        finally:
            for f, _ in mems.values():
                f.close()
        return "clean" if bad == 0 else f"BAD ({bad} pages differ)"


def ram_address(pid):
    """Where QEMU mapped the guest's 1 GiB of RAM: its one rw-p mapping of exactly 1 GiB."""
    found = []
    with open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in span.split("-"))
            if hi - lo == GIB and perms == "rw-p":  # not TCG's 1 GiB code buffer (rwxp)
                found.append(lo)
    if len(found) != 1:
        raise RuntimeError(f"QEMU {pid}: {len(found)} mappings of 1 GiB, cannot tell which is guest RAM")
    return found[0]


def expected_static(addr, length, end):
    page = bytearray(struct.pack("<I", PATTERN) * 1024)
    out = bytearray()
    for a in range(addr, addr + length, 4096):
        if a < end:
            struct.pack_into("<I", page, 0, a)
            out += page
        else:
            out += bytes(4096)
    return bytes(out)


# ---- Godwit ------------------------------------------------------------------------------------------

class Godwit:
    def __init__(self, home, work, logs, pki):
        self.godwit = str(home / "bin" / "godwit")
        self.work, self.logs, self.pki = work, logs, pki
        self.tls_objects = False
        self.hosts = []
        env = dict(os.environ)
        if "JAVA_HOME" not in env:  # the launcher needs a JDK 25, which may not be the java on PATH
            env["JAVA_HOME"] = subprocess.check_output([str(here.parent / "godwit"), "java-home"], text=True).strip()
        self.env = env
        for name in ("a", "b"):
            self.hosts.append(subprocess.Popen(
                [self.godwit, "--daemon", "--monitor", f"unix:{work}/{name}.sock", "--ready-file",
                 f"{work}/{name}.ready", "--log", f"{work}/{name}.log"],
                stdout=subprocess.DEVNULL, stderr=open(work / f"{name}.err", "wb"), env=env))

        def ready():
            for name, h in zip(("a", "b"), self.hosts):
                if h.poll() is not None:
                    raise RuntimeError(f"Godwit host {name} exited: {(work / f'{name}.err').read_text().strip()}")
            return all((work / f"{n}.ready").exists() for n in ("a", "b"))

        wait_for("the Godwit hosts", ready, 180)

    def sh(self, host, script):
        return subprocess.run([self.godwit, "--connect", f"unix:{self.work}/{host}.sock", "-c", script],
                              check=True, capture_output=True, text=True, env=self.env).stdout

    def run(self, n, scenario):
        label, transport, kind, wss, prealloc, auto_converge = SCENARIOS[scenario]
        workload = {"static": "fill", "idle": "idle", "sweep": f"sweep:{(wss or 0) // MIB}M"}[kind]
        shape = f"--memory 1G --vcpus 1 --workload {workload}"
        w = self.work
        self.sh("b", f"vm_create g{n} {shape}{' --mem-prealloc' if prealloc else ''} --incoming defer"
                     f" --qmp unix:{w}/b{n}.qmp")
        self.sh("a", f"vm_create g{n} {shape} --qmp unix:{w}/a{n}.qmp")
        src, dst = qmp.Qmp(f"unix:{w}/a{n}.qmp"), qmp.Qmp(f"unix:{w}/b{n}.qmp")
        try:
            self.await_workload(src, f"g{n}", kind)
            uri = f"unix:{w}/mig-{n}.sock" if transport == "unix" else f"tcp:127.0.0.1:{free_port()}"
            if scenario in TLS and not self.tls_objects:
                self.sh("b", f"object_add tls-creds-x509,id=tls0,endpoint=server,dir={self.pki / 'server'}")
                self.sh("a", f"object_add tls-creds-x509,id=tls0,endpoint=client,dir={self.pki / 'client'}")
                self.tls_objects = True
            info = migrate(src, dst, uri, auto_converge, qemu=False, tls=scenario in TLS)
            if info["status"] == "completed" and scenario in TLS:
                shown = src.execute("human-monitor-command", {"command-line": f"info migrate g{n}"})
                if "TLSv1" not in shown:  # a TLS row that ran in clear would compare plain with plain
                    return Result({"status": "failed", "error-desc": "info migrate shows no TLS session"}, "-")
            verdict = "-"
            if info["status"] == "completed":
                dst.execute("stop")
                check = dst.execute("human-monitor-command", {"command-line": f"vm_check g{n}"})
                verdict = "clean" if "bad pages:     0\n" in check else "BAD: " + check.strip().replace("\n", "; ")
            return Result(info, verdict)
        finally:
            src.close()
            dst.close()
            self.sh("b", f"vm_destroy g{n}")
            self.sh("a", f"vm_destroy g{n}")

    @staticmethod
    def await_workload(src, vm, kind):
        """fill: until its vCPU wrote all of RAM; sweep: until it runs, plus a second (as QEMU's)."""
        if kind == "idle":
            return

        def progress():
            rows = src.execute("human-monitor-command", {"command-line": f"info cpus {vm}"}).splitlines()[1:]
            return [int(r.split()[4]) for r in rows if r.split() and r.split()[0].isdigit()]

        if kind == "static":
            wait_for("the fill", lambda: progress() and min(progress()) >= GIB // 4096, 300)
        else:
            wait_for("the sweep", lambda: progress() and min(progress()) > 0, 60)
            time.sleep(1)

    def close(self):
        for h in self.hosts:
            h.terminate()
        for h in self.hosts:
            try:
                h.wait(20)
            except subprocess.TimeoutExpired:
                h.kill()
        if self.logs:
            for name in ("a", "b"):
                shutil.copy(self.work / f"{name}.log", self.logs / f"godwit-{name}.log")


# ---- the run -----------------------------------------------------------------------------------------

def summary(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    return f"{statistics.median(values):.0f} ({min(values)}..{max(values)})"


def tls_ratios(results, plain, tls):
    """Issue 15's figure for each system: TLS against plain, run by run (run i of the plain scenario with
    run i of its TLS twin), as throughput (query-migrate's ram mbps) and as plain's total time over TLS's."""
    lines = [f"| {SCENARIOS[tls][0]}: TLS / plain, per run pair | throughput | total time (plain / TLS) |", "|---|---|---|"]
    for system, name in (("qemu", "QEMU 7.2 (GnuTLS)"), ("godwit", "Godwit (JDK TLS, Godwit's records)")):
        pairs = [(p, t) for p, t in zip(results[plain][system], results[tls][system]) if p.ok() and t.ok()]
        rate = [t.mbps / p.mbps for p, t in pairs if p.mbps and t.mbps]
        time_ = [p.total / t.total for p, t in pairs if p.total and t.total]
        cell = lambda v: f"{statistics.median(v):.2f} ({min(v):.2f}..{max(v):.2f}), {len(v)} pairs" if v else "-"
        lines.append(f"| {name} | {cell(rate)} | {cell(time_)} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--home", help="Godwit host home (default: ./godwit home)")
    parser.add_argument("--qemu", default=shutil.which("qemu-system-x86_64"))
    parser.add_argument("--keep-logs")
    parser.add_argument("--only", choices=("qemu", "godwit"), help="run one system alone (profiling)")
    args = parser.parse_args()
    scenarios = args.scenarios.split(",")
    for s in scenarios:
        if s not in SCENARIOS:
            parser.error(f"unknown scenario {s!r}; known: {', '.join(SCENARIOS)}")
    if not args.qemu or not os.access(args.qemu, os.X_OK):
        print("skipped: qemu-system-x86_64 is not installed (Debian: apt-get install -y qemu-system-x86)")
        return 0
    version = subprocess.run([args.qemu, "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    home = pathlib.Path(args.home or subprocess.check_output([str(here.parent / "godwit"), "home"], text=True).strip())
    logs = pathlib.Path(args.keep_logs) if args.keep_logs else None
    if logs:
        logs.mkdir(parents=True, exist_ok=True)
    work = pathlib.Path(tempfile.mkdtemp(prefix="godwit-vs-qemu-"))  # 0700: sockets only we can reach
    print(f"{version}, TCG; Godwit from {home}; {args.runs} runs per scenario; load {os.getloadavg()}", flush=True)
    pki = make_pki(work / "pki") if any(s in TLS for s in scenarios) else None
    godwit = Godwit(home, work, logs, pki)
    qemu = Qemu(args.qemu, work, logs, pki)
    results, loads, failed, n = {}, {}, False, 0
    try:
        for s in scenarios:
            results[s] = {"qemu": [], "godwit": []}
            loads[s] = []
            for r in range(args.runs):
                order = ("qemu", "godwit") if r % 2 == 0 else ("godwit", "qemu")
                for system in (s_ for s_ in order if args.only in (None, s_)):
                    n += 1
                    loads[s].append(os.getloadavg()[0])
                    try:
                        res = (qemu if system == "qemu" else godwit).run(n, s)
                    except Exception as e:  # noqa: BLE001  one run's failure is reported, the rest go on
                        res = Result({"status": "failed", "error-desc": f"{type(e).__name__}: {e}"}, "-")
                    failed |= res.status == "completed" and res.verdict != "clean" or res.status == "failed"
                    results[s][system].append(res)
                    print(f"{s:20} run {r + 1} {system:6} {res.line()} (load {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        godwit.close()
        shutil.rmtree(work, ignore_errors=True)
    print()
    print("| scenario | QEMU total ms | QEMU downtime ms | Godwit total ms | Godwit downtime ms"
          " | Godwit observed ms | load (1 min) |")
    print("|---|---|---|---|---|---|---|")
    for s in scenarios:
        row = [SCENARIOS[s][0]]
        for system in ("qemu", "godwit"):
            done = [x for x in results[s][system] if x.ok()]
            misses = len(results[s][system]) - len(done)
            note = f", {len(done)} of {len(results[s][system])} completed" if misses else ""
            row.append(summary([x.total for x in done]) + note)
            row.append(summary([x.downtime for x in done]))
        row.append(summary([x.observed for x in results[s]["godwit"] if x.ok()]))
        row.append(f"{min(loads[s]):.1f}..{max(loads[s]):.1f}")
        print("| " + " | ".join(row) + " |")
    for tls, plain in TLS.items():
        if tls in results and plain in results:
            print()
            print(tls_ratios(results, plain, tls))
    print(f"\nload at the end: {os.getloadavg()}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
