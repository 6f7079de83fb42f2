#!/usr/bin/env python3
"""Writes src/chat/tokenizers/{cl100k_base,o200k_base}.bin.z from OpenAI's tiktoken tables.

A `.tiktoken` file lists `base64(token) rank` per line, ranks 0, 1, 2, ... in order. Stored
here as each token's length (one byte) and bytes, in rank order, zlib-compressed: 1.5 MB in
the binary instead of 5.3 MB of base64 text. src/chat/tokens.rs reads them back, and its tests
check the counts against the tiktoken-rs crate's own tables.

    python3 tools/tokenizer-tables.py ~/.cargo/registry/src/*/tiktoken-rs-0.12.1/assets
"""
import base64
import pathlib
import sys
import zlib

source = pathlib.Path(sys.argv[1])
out_dir = pathlib.Path(__file__).resolve().parent.parent / "src/chat/tokenizers"
for name in ["cl100k_base", "o200k_base"]:
    packed = bytearray()
    for expected, line in enumerate((source / f"{name}.tiktoken").read_bytes().splitlines()):
        token, rank = line.split()
        assert int(rank) == expected, f"{name}: ranks are not 0, 1, 2, ..."
        raw = base64.b64decode(token)
        assert 0 < len(raw) < 256
        packed.append(len(raw))
        packed += raw
    (out_dir / f"{name}.bin.z").write_bytes(zlib.compress(bytes(packed), 9))
    print(name, len(packed), "bytes packed")
