#!/usr/bin/env python3
"""make_hostile.py OUTDIR ABS_SENTINEL NEWER_ABI -- writes the hostile package
tarballs of tests/integration/test_hub_local.sh into OUTDIR, and
OUTDIR/cases.tsv: one line per tarball, "file<TAB>reason docflow-hub must
print". Each tarball starts like a good package (manifest.yml with correct
digests, config.yml, lib/fake.so) and then breaks one rule of the hub's
"Safety" list. ABS_SENTINEL is an absolute path an escaping entry would
create; NEWER_ABI is an ABI version newer than the host's ("1.1").
"""
import gzip
import hashlib
import io
import os
import sys
import tarfile

out, sentinel, newer_abi = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(out, exist_ok=True)
u = os.uname()
PLATFORM = f"{u.sysname.lower()}-{u.machine}"
CONFIG = b"jtype: Fake\nmetas: {library: lib/fake.so}\n"
LIB = b"\x7fELF not really a library"


def manifest(files, abi="1.0", platform=PLATFORM):
    lines = ["namespace: evil", "name: pkg", "version: 1.0.0", f'abi_version: "{abi}"',
             f"platform: {platform}", "library: lib/fake.so",
             "executors:", "  - jtype: Fake", "    endpoints: [/index]", "files:"]
    for name, data in sorted(files.items()):
        lines.append(f"  {name}: sha256:{hashlib.sha256(data).hexdigest()}")
    return ("\n".join(lines) + "\n").encode()


def member(tar, name, data=b"", **kw):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = kw.pop("mode", 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    tar.addfile(ti, io.BytesIO(data) if data else None)


def package(name, extra, files=None, abi="1.0", platform=PLATFORM, listed=None, raw_tail=b""):
    """A good package, then `extra(tar)` adds the hostile part."""
    files = dict(files or {"config.yml": CONFIG, "lib/fake.so": LIB})
    buf = io.BytesIO()
    tar = tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT)
    member(tar, "manifest.yml", manifest(listed if listed is not None else files, abi, platform))
    for path, data in sorted(files.items()):
        member(tar, path, data)
    if extra:
        extra(tar)
    if raw_tail:  # bytes written after the members, without closing the archive
        buf.write(raw_tail)
    else:
        tar.close()
    with open(os.path.join(out, name), "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))


def huge_header():
    ti = tarfile.TarInfo("data/huge.bin")
    ti.size = 600 * 2**20  # the header claims 600 MiB; the data is not there
    return ti.tobuf(tarfile.PAX_FORMAT) + b"\0" * 4096


cases = [
    ("abs.tar.gz", lambda t: member(t, sentinel, b"escaped"), "an absolute path; refused"),
    ("dotdot.tar.gz", lambda t: member(t, "lib/../../../escaped", b"x"), "a '..' part; refused"),
    ("symlink.tar.gz", lambda t: member(t, "data", type=tarfile.SYMTYPE, linkname="/etc"),
     "a symbolic link (to '/etc')"),
    ("hardlink.tar.gz", lambda t: member(t, "data/passwd", type=tarfile.LNKTYPE,
                                         linkname="/etc/passwd"), "a hard link (to '/etc/passwd')"),
    ("chardev.tar.gz", lambda t: member(t, "data/null", type=tarfile.CHRTYPE, devmajor=1,
                                        devminor=3), "a character device node"),
    ("blockdev.tar.gz", lambda t: member(t, "data/sda", type=tarfile.BLKTYPE, devmajor=8,
                                         devminor=0), "a block device node"),
    ("fifo.tar.gz", lambda t: member(t, "data/pipe", type=tarfile.FIFOTYPE), "a FIFO"),
    ("setuid.tar.gz", lambda t: member(t, "data/tool", b"#!/bin/sh\n", mode=0o4755),
     "has the setuid bit"),
    ("setgid.tar.gz", lambda t: member(t, "data/tool", b"#!/bin/sh\n", mode=0o2755),
     "has the setgid bit"),
    ("unlisted.tar.gz", lambda t: member(t, "data/extra", b"surprise"),
     "data/extra is in the archive but not in manifest.yml files"),
    ("duplicate.tar.gz", lambda t: member(t, "config.yml", b"jtype: Evil\n"), "appears twice"),
]
with open(os.path.join(out, "cases.tsv"), "w") as tsv:
    for name, extra, reason in cases:
        package(name, extra)
        tsv.write(f"{name}\t{reason}\n")
    package("oversize.tar.gz", None, raw_tail=huge_header())
    tsv.write("oversize.tar.gz\tover the limit of 536870912 bytes per file\n")
    package("tampered.tar.gz", None, files={"config.yml": CONFIG, "lib/fake.so": LIB},
            listed={"config.yml": CONFIG, "lib/fake.so": b"the original library"})
    tsv.write("tampered.tar.gz\tthe package was altered or damaged\n")
    package("missing.tar.gz", None, listed={"config.yml": CONFIG, "lib/fake.so": LIB,
                                            "README.md": b"# x\n"})
    tsv.write("missing.tar.gz\tREADME.md is listed in manifest.yml but missing\n")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        member(t, "config.yml", CONFIG)
    with open(os.path.join(out, "nomanifest.tar.gz"), "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))
    tsv.write("nomanifest.tar.gz\tno manifest.yml in the archive\n")
    package("newabi.tar.gz", None, abi=newer_abi)
    tsv.write(f"newabi.tar.gz\tneeds executor ABI {newer_abi}, but this docflow has ABI\n")
    package("platform.tar.gz", None, platform="plan9-mips")
    tsv.write("platform.tar.gz\tis built for platform plan9-mips\n")
    with open(os.path.join(out, "notgzip.tar.gz"), "wb") as f:
        f.write(b"this is not a tarball\n" * 10)
    tsv.write("notgzip.tar.gz\tnot a readable .tar.gz\n")
