#!/bin/sh
# Builds the parity corpus for conan: real files of this system and files
# made by the tools installed here, in the directory given as $1.
# Deterministic names; a tool that is missing just makes fewer files.
set -u
out=${1:?usage: corpus.sh OUTDIR}
mkdir -p "$out/sys" "$out/gen"
have() { command -v "$1" >/dev/null 2>&1; }

# 1. Files already on the system: a fixed sample of each tree (sorted, every
#    Nth file) so the corpus is varied but bounded.
sample() { # dir step limit prefix
    find "$1" -xdev -type f -size -4M 2>/dev/null | LC_ALL=C sort | awk -v s="$2" 'NR % s == 0' | head -n "$3" |
    while IFS= read -r f; do
        name=$(printf '%s' "$f" | tr '/ ' '__')
        cp "$f" "$out/sys/$4$name" 2>/dev/null || true
    done
}
sample /usr/share/doc 7 250 d
sample /usr/share/misc 1 40 m
sample /usr/share/mime 17 80 x
sample /usr/share/perl 23 120 p
sample /usr/lib/python3 41 150 y
sample /usr/share/i18n 9 60 i
sample /usr/share/zoneinfo 19 40 z
sample /usr/share/pixmaps 1 30 g
sample /usr/share/icons 13 80 c
sample /usr/share/fonts 3 40 f
sample /usr/share/man 29 80 n
sample /usr/bin 11 120 b
sample /usr/lib/x86_64-linux-gnu 37 120 l
sample /etc 5 120 e
sample /usr/include 31 80 h
sample /usr/share/javascript 5 40 j
sample /usr/share/locale 97 30 o

# 2. Generated content.
g=$out/gen
cd "$g" || exit 1
printf 'hello\n' > ascii-lf.txt
printf 'hello\r\nworld\r\n' > ascii-crlf.txt
printf 'hello\rworld\r' > ascii-cr.txt
printf 'no newline' > ascii-none.txt
printf 'esc \033[1mbold\033[0m\n' > ascii-esc.txt
printf 'over\bstrike\n' > ascii-bs.txt
awk 'BEGIN { for (i = 0; i < 500; i++) printf "x"; printf "\n" }' > ascii-long.txt
printf 'caf\303\251 na\303\257ve\n' > utf8.txt
printf '\357\273\277caf\303\251\n' > utf8-bom.txt
printf 'caf\351\n' > latin1.txt
printf 'smart \223quotes\224\n' > cp1252.txt
if have iconv; then
    printf 'caf\303\251 text\n' | iconv -f UTF-8 -t UTF-16 > utf16-bom.txt
    printf 'caf\303\251 text\n' | iconv -f UTF-8 -t UTF-16BE > utf16be-nobom.txt
    printf 'caf\303\251 text\n' | iconv -f UTF-8 -t UTF-32 > utf32.txt
    printf 'hello world\n' | iconv -f ASCII -t EBCDIC-US > ebcdic.txt 2>/dev/null || rm -f ebcdic.txt
fi
printf '{"name": "conan", "list": [1, 2.5, true, null]}\n' > data.json
printf '{"a":1}\n{"a":2}\n{"a":3}\n' > data.ndjson
printf 'a,b,c\n1,2,3\n4,5,6\n7,"8,9",10\n' > data.csv
printf '#!/bin/sh\necho hi\n' > script.sh
printf '#!/usr/bin/env python3\nprint("hi")\n' > script.py
printf '#!/usr/bin/perl\nprint "hi\\n";\n' > script.pl
printf '#!/usr/bin/env node\nconsole.log(1)\n' > script.js
printf '#!/bin/bash\necho hi\n' > script.bash
printf '<?php echo 1; ?>\n' > page.php
printf '<!DOCTYPE html>\n<html><head><title>x</title></head><body></body></html>\n' > page.html
printf '<?xml version="1.0"?>\n<root/>\n' > doc.xml
printf '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>\n' > image.svg
printf '#include <stdio.h>\nint main(void) { return 0; }\n' > prog.c
printf 'package main\n\nfunc main() {}\n' > prog.go
printf 'fn main() {}\n' > prog.rs
printf 'public class A { public static void main(String[] a) {} }\n' > A.java
printf 'body { color: red; }\n' > style.css
printf '%%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%%%EOF\n' > doc.pdf
printf 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n' > change.diff
printf 'From: a@b\nTo: c@d\nSubject: hi\n\nbody\n' > mail.eml
printf '.TH X 1\n.SH NAME\nx\n' > page.1
printf '[section]\nkey=value\n' > conf.ini
printf 'all:\n\techo hi\n' > Makefile
printf '\0\1\2\3\4\5\6\7' > binary.bin
head -c 4096 /dev/zero > zeros.bin
printf 'x' > one-byte
: > empty
tar -cf archive.tar script.sh data.json 2>/dev/null
tar --format=v7 -cf archive-v7.tar script.sh 2>/dev/null
tar --format=posix -cf archive-posix.tar script.sh 2>/dev/null
gzip -c script.sh > script.sh.gz
have bzip2 && bzip2 -c script.sh > script.sh.bz2
have xz && xz -c script.sh > script.sh.xz
have zstd && zstd -q -c script.sh > script.sh.zst
have lz4 && lz4 -q -c script.sh > script.sh.lz4
have zip && zip -q archive.zip script.sh data.json
have sqlite3 && sqlite3 db.sqlite 'create table t(a); insert into t values (1);'
have openssl && {
    openssl genrsa -out key.pem 1024 2>/dev/null
    openssl req -new -x509 -key key.pem -subj /CN=x -days 1 -out cert.pem 2>/dev/null
    openssl x509 -in cert.pem -outform DER -out cert.der 2>/dev/null
}
have qemu-img && { qemu-img create -f qcow2 disk.qcow2 1M >/dev/null; qemu-img create -f vmdk disk.vmdk 1M >/dev/null; qemu-img create -f vdi disk.vdi 1M > /dev/null; }
have convert && for fmt in png gif jpg bmp tiff ico webp pnm xpm pcx tga; do
    convert -size 8x8 xc:red "image.$fmt" 2>/dev/null || rm -f "image.$fmt"
done
have gcc && {
    gcc -c -o obj.o prog.c 2>/dev/null
    gcc -o prog-pie prog.c 2>/dev/null
    gcc -static -o prog-static prog.c 2>/dev/null
    gcc -shared -fPIC -o libx.so prog.c 2>/dev/null
    have ar && ar rc libx.a obj.o 2>/dev/null
}
have javac && javac -d . A.java 2>/dev/null
python3 - <<'PY' 2>/dev/null
import struct, wave, zlib
w = wave.open("sound.wav", "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"\0\0" * 800); w.close()
open("font.woff2", "wb").write(b"wOF2" + b"\0\1\0\0" + b"\0" * 40)
open("module.wasm", "wb").write(b"\0asm\1\0\0\0")
open("class.bin", "wb").write(b"\xca\xfe\xba\xbe\0\0\0\x34" + b"\0" * 20)
PY
exit 0
