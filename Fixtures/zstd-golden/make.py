#!/usr/bin/env python3
"""Writes the golden compressed files of Fixtures/zstd-golden and their SHA256SUMS.decoded.

Run from this folder: `python3 make.py` (Python 3 standard library, the `zstd` CLI 1.5.x
and `gzip`). The frames that matter are built by hand, byte by byte, from RFC 8878, so they
do not depend on what a compressor happens to choose; the rest come from the zstd CLI.
Everything is deterministic: re-running writes identical files.
"""
import gzip
import hashlib
import os
import random
import struct
import subprocess

MAGIC = b"\x28\xb5\x2f\xfd"


def text(lines, seed):
    """CDR-like lines, deterministic."""
    rng = random.Random(seed)
    out = []
    for i in range(lines):
        imsi = 460000000000000 + rng.randrange(10**9)
        out.append(f"{imsi},2026-11-20T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z,call_out,460-00-{rng.randrange(9999)}-{rng.randrange(99)}\n")
    return "".join(out).encode()


def block(kind, payload, size, last):
    """A block header (RFC 8878 3.1.1.2): last flag, type (0 raw, 1 RLE), size."""
    header = (size << 3) | (kind << 1) | (1 if last else 0)
    return struct.pack("<I", header)[:3] + payload


def frame(blocks, content_size=None, window_log=17):
    """A frame without checksum; single segment with its content size when given, else a
    window descriptor and no content size."""
    if content_size is None:
        descriptor = 0x00                      # FCS absent, not single segment, no checksum
        header = bytes([descriptor, (window_log - 10) << 3])
    elif content_size < 256:
        descriptor = 0x20                      # single segment, 1-byte content size
        header = bytes([descriptor, content_size])
    else:
        descriptor = 0xA0                      # single segment, 4-byte content size
        header = bytes([descriptor]) + struct.pack("<I", content_size)
    return MAGIC + header + b"".join(blocks)


def skippable(nibble, payload):
    return struct.pack("<II", 0x184D2A50 + nibble, len(payload)) + payload


def cli(data, *flags):
    return subprocess.run(["zstd", "-q", "-c", *flags], input=data, stdout=subprocess.PIPE, check=True).stdout


files = {}
decoded = {}

# One raw block of the largest size a block may have (128 KiB), the whole frame.
big = random.Random(1).randbytes(128 * 1024)
files["raw-block-128k.zst"] = frame([block(0, big, len(big), True)], content_size=len(big))
decoded["raw-block-128k.zst"] = big

# A frame whose only block is an empty raw block: decodes to nothing.
files["empty-block.zst"] = frame([block(0, b"", 0, True)], content_size=0)
decoded["empty-block.zst"] = b""

# An RLE block first (3000 x 'A'), then a raw block; no content size, a window descriptor.
tail = b"\nend of rle\n"
files["rle-first-block.zst"] = frame(
    [block(1, b"A", 3000, False), block(0, tail, len(tail), True)])
decoded["rle-first-block.zst"] = b"A" * 3000 + tail

# Frames from the CLI: with and without checksum, with and without content size, and empty.
a, b, c = text(400, 2), text(900, 3), text(50, 4)
files["multi-frame-checksums.zst"] = cli(a, "-3", "--check") + cli(b, "-19", "--no-check") + cli(c, "-1", "--check", "--no-content-size")
decoded["multi-frame-checksums.zst"] = a + b + c

files["empty-frames.zst"] = cli(b"") + cli(a, "--no-check") + cli(b"", "--no-check") + frame([block(0, b"", 0, True)]) + cli(b"")
decoded["empty-frames.zst"] = a

files["no-content-size.zst"] = cli(b, "--no-content-size", "--check")
decoded["no-content-size.zst"] = b

# Skippable frames (any of the 16 magic numbers, any length, also empty) before, between and
# after data frames; nothing of them reaches the output.
files["skippable-frames.zst"] = (
    skippable(0, b"catpool golden") + cli(a) + skippable(0xF, b"") + skippable(7, bytes(range(256)) * 4)
    + cli(c, "--no-check") + skippable(3, b"trailing"))
decoded["skippable-frames.zst"] = a + c

# A skippable frame alone: a valid zstd stream with no content.
files["skippable-only.zst"] = skippable(10, b"only metadata")
decoded["skippable-only.zst"] = b""

# gzip: two members, the second of level 1 and without a name (`cat a.gz b.gz`).
files["multi-member.gz"] = gzip.compress(a, 9, mtime=0) + gzip.compress(c, 1, mtime=0)
decoded["multi-member.gz"] = a + c

sums = []
for name, data in sorted(files.items()):
    with open(name, "wb") as f:
        f.write(data)
    # The CLI must agree with what was meant: every file decodes to its intended bytes.
    tool = ["gzip", "-dc", name] if name.endswith(".gz") else ["zstd", "-q", "-dc", name]
    got = subprocess.run(tool, stdout=subprocess.PIPE, check=True).stdout
    assert got == decoded[name], name
    sums.append(f"{hashlib.sha256(got).hexdigest()}  {name}\n")
with open("SHA256SUMS.decoded", "w") as f:
    f.writelines(sums)
