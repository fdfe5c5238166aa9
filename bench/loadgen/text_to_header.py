#!/usr/bin/env python3
"""Writes a text file into a C++ header as a raw string constant, so a program carries a
script the repository also keeps as a file of its own (meson runs this at build time).
   text_to_header.py INPUT OUTPUT NAME"""
import sys

src, dst, name = sys.argv[1:4]
text = open(src).read()
if ')txt"' in text:
    sys.exit("%s contains the raw string's terminator" % src)
with open(dst, "w") as out:
    out.write("#pragma once\n// Generated from %s by bench/loadgen/text_to_header.py.\n" % src.split("../")[-1])
    out.write('inline constexpr char %s[] = R"txt(%s)txt";\n' % (name, text))
