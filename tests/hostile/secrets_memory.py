# ATTACK: look for the service's secrets in everything the job can read about
# itself: /proc/self/environ, cmdline and auxv, every readable mapping of its
# own memory (/proc/self/maps + /proc/self/mem: the warm interpreter it was
# cloned from), and the files in /etc, /tmp, /dev/shm.  A job first makes
# itself dumpable (prctl) so its /proc files become readable.
# The search is for anything shaped like the test's secret marker
# ("pysbsecret" + 24 hex digits + "terces").  `data` carries a decoy with the
# same shape, which MUST be found in memory (proof the scan works).
# MUST HAPPEN: the only marker found is the decoy; the real secret, set in
# the service's environment by the test, appears nowhere.
import ctypes
import os
import re

libc = ctypes.CDLL(None, use_errno=True)
PR_SET_DUMPABLE = 4
libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
marker = re.compile(rb"pysbsecret[0-9a-f]{24}terces")
found = {}
errors = {}


def note(where, blob):
    for m in marker.findall(blob):
        found.setdefault(m.decode(), set()).add(where)


for name in ("environ", "cmdline", "auxv", "maps", "status"):
    try:
        with open(f"/proc/self/{name}", "rb") as f:
            note(name, f.read())
    except OSError as exc:
        errors[name] = repr(exc)

for top in ("/etc", "/tmp", "/dev/shm"):
    for dirpath, _, files in os.walk(top):
        for fn in files:
            try:
                with open(os.path.join(dirpath, fn), "rb") as f:
                    note(os.path.join(dirpath, fn), f.read(1 << 20))
            except OSError:
                pass

scanned = 0
regions = 0
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps.read().splitlines():
        fields = line.split()
        if "r" not in fields[1] or (len(fields) > 5 and fields[5] in ("[vvar]", "[vsyscall]", "[vvar_vclock]")):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        regions += 1
        where = fields[5] if len(fields) > 5 else "anon"
        pos = start
        tail = b""
        while pos < end:
            size = min(8 << 20, end - pos)
            try:
                mem.seek(pos)
                blob = mem.read(size)
            except OSError:
                break
            note(f"mem:{where}", tail + blob)  # a marker may straddle two reads
            tail = blob[-64:]
            scanned += len(blob)
            pos += size
found = {k: sorted(v) for k, v in found.items()}
print(f"scanned {scanned >> 20} MiB in {regions} regions; markers: {sorted(found)}")
__result__ = {"found": found, "scanned": scanned, "errors": errors}
if data.get("token"):
    # Stay alive for the host to inspect this process from outside.
    wait_until_released(data["token"])  # prelude.py
