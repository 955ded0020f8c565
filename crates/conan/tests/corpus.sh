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
sample /usr/lib/jvm 5 80 v
sample /usr/lib/terminfo 2 20 t
sample /usr/share/keyrings 1 12 k
sample /usr/lib/node_modules 13 150 N
sample /usr/share/ca-certificates 9 15 C
sample /var/lib/dpkg 19 150 D
sample /usr/lib/gcc 3 50 G
sample /usr/share/info 1 27 I
sample /usr/share/X11 7 70 X
sample /usr/lib/locale 1 12 L
sample /usr/share/postgresql 7 70 P
sample /usr/share/vim 13 150 V
sample /usr/share/gdb 2 25 B
sample /usr/share/tcltk 5 60 T
sample /usr/share/maven-repo 3 60 M
sample /usr/share/java 1 72 J
sample /usr/lib/python3 97 150 Y
sample /usr/lib/x86_64-linux-gnu 211 150 U
sample /usr/share 301 300 S

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
have javac && have jar && jar cf classes.jar A.class 2>/dev/null
have convert && for fmt in jp2 psd miff sgi ras xbm dds exr fits hdr pam pbm pgm ppm sun viff wbmp xwd otb pict jng mng palm cin dpx rgb yuv vicar pcd ps eps svg; do
    convert -size 16x16 gradient:red-blue "image-more.$fmt" 2>/dev/null || rm -f "image-more.$fmt"
done
have mkfs.ext2 && { head -c 1048576 /dev/zero > fs.ext2 && mkfs.ext2 -q -F fs.ext2 >/dev/null 2>&1 || rm -f fs.ext2; }
have git && (
    mkdir -p repo && cd repo && git init -q . && git config user.email a@b && git config user.name a &&
    printf 'x\n' > f && git add f && git commit -qm init && git gc -q 2>/dev/null
    cp .git/index ../git-index 2>/dev/null
    for p in .git/objects/pack/*.pack .git/objects/pack/*.idx; do cp "$p" ../"git-$(basename "$p" | cut -c1-9).${p##*.}" 2>/dev/null; done
) && rm -rf repo
have msgfmt && { printf 'msgid "a"\nmsgstr "b"\n' > po.po && msgfmt -o messages.mo po.po; }
have gpg && { GNUPGHOME=$(mktemp -d) && export GNUPGHOME && gpg --batch --quiet --passphrase '' --quick-gen-key 'a <a@b>' ed25519 default never >/dev/null 2>&1 &&
    gpg --batch --quiet --export > pub.gpg 2>/dev/null && gpg --batch --quiet --armor --export > pub.asc 2>/dev/null &&
    printf 'hi\n' | gpg --batch --quiet --sign > signed.gpg 2>/dev/null; rm -rf "$GNUPGHOME"; }
have openssl && {
    openssl ecparam -name prime256v1 -genkey -noout -out ec.pem 2>/dev/null
    openssl rsa -in key.pem -outform DER -out key.der 2>/dev/null
    openssl req -new -key key.pem -subj /CN=x -out req.csr 2>/dev/null
    openssl pkcs12 -export -in cert.pem -inkey key.pem -passout pass:x -out bundle.p12 2>/dev/null
}
have dpkg-deb && { mkdir -p pkg/DEBIAN && printf 'Package: x\nVersion: 1\nArchitecture: all\nMaintainer: a <a@b>\nDescription: x\n' > pkg/DEBIAN/control && dpkg-deb -b pkg pkg.deb >/dev/null 2>&1; rm -rf pkg; }
have qemu-img && { qemu-img create -f vhdx disk.vhdx 1M >/dev/null; qemu-img create -f qed disk.qed 1M >/dev/null; qemu-img create -f vpc disk.vhd 1M >/dev/null; }
have msibuild && {
    msibuild package.msi -s "Conan Test" "Conan" "Intel;1033" "{12345678-1234-1234-1234-123456789012}" 2>/dev/null
    # damaged copies exercise the CDF reader's error paths
    python3 - <<'PY' 2>/dev/null
import random
random.seed(7)
src = open("package.msi", "rb").read()
for n in range(24):
    b = bytearray(src)
    if n % 3 == 0:
        b = b[:random.randrange(400, len(b))]
    else:
        for _ in range(random.randrange(1, 4)):
            i = random.randrange(0 if n % 3 == 1 else 512, len(b))
            b[i] = random.choice([0, 0xff, 0xfe, 0x80, 1, 2, 0x1e, 0x1f, 0x40, random.randrange(256)])
    open("damaged-%02d.msi" % n, "wb").write(bytes(b))
PY
}
have as && { printf '.text\n.globl _start\n_start: ret\n' > asm.s && as -o asm.o asm.s && ld -o asm-exe asm.o 2>/dev/null; }
have gcc && { gcc -g -o prog-debug prog.c 2>/dev/null; gcc -o prog-stripped prog.c -s 2>/dev/null; }
have node && node -e 'require("fs").writeFileSync("node.json", JSON.stringify({a:[1,2,3]}))'
have tclsh && printf '#!/usr/bin/tclsh\nputs hi\n' > script.tcl
printf '#!/usr/bin/awk -f\n{ print }\n' > script.awk
printf '#!/usr/bin/make -f\nall:\n\ttrue\n' > rules
printf '#!/usr/bin/env ruby\nputs 1\n' > script.rb
printf '#!/usr/bin/env lua\nprint(1)\n' > script.lua
printf '<?php\necho 1;\n' > script.php
printf '\\documentclass{article}\n\\begin{document}\nx\n\\end{document}\n' > doc.tex
printf '# Title\n\nSome *markdown* text.\n' > README.md
printf 'BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n' > card.vcf
printf 'BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n' > cal.ics
printf '[Desktop Entry]\nName=x\nExec=x\n' > app.desktop
printf 'M4 test\ndnl comment\n' > m.m4
printf '{\\rtf1\\ansi hi}\n' > doc.rtf
printf '%%!PS-Adobe-3.0\n%%%%EOF\n' > doc.ps
printf 'SQLite format 3\000' > fake.sqlite.hdr
printf 'GIF87a' > short.gif
printf '\377\330\377' > short.jpg
printf 'PK\005\006\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' > empty.zip

python3 - <<'PY' 2>/dev/null
import struct, wave, zlib
w = wave.open("sound.wav", "wb"); w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"\0\0" * 800); w.close()
open("font.woff2", "wb").write(b"wOF2" + b"\0\1\0\0" + b"\0" * 40)
open("module.wasm", "wb").write(b"\0asm\1\0\0\0")
open("class.bin", "wb").write(b"\xca\xfe\xba\xbe\0\0\0\x34" + b"\0" * 20)
import sunau, pickle, marshal, plistlib, py_compile, sqlite3, tarfile, zipfile, gzip, bz2, lzma, dbm, io
a = sunau.open("sound.au", "w"); a.setnchannels(1); a.setsampwidth(2); a.setframerate(8000); a.writeframes(b"\0\0" * 100); a.close()
open("data.pickle", "wb").write(pickle.dumps({"a": [1, 2, 3]}, protocol=4))
open("data.pickle2", "wb").write(pickle.dumps({"a": 1}, protocol=2))
open("code.marshal", "wb").write(marshal.dumps(compile("x=1", "x", "exec")))
open("list.plist", "wb").write(plistlib.dumps({"a": 1}, fmt=plistlib.FMT_BINARY))
open("list-xml.plist", "wb").write(plistlib.dumps({"a": 1}))
open("mod.py", "w").write("x = 1\n"); py_compile.compile("mod.py", cfile="mod.pyc")
c = sqlite3.connect("db2.sqlite3"); c.execute("create table t(a)"); c.commit(); c.close()
for mode, name in (("w:gz", "a.tar.gz"), ("w:bz2", "a.tar.bz2"), ("w:xz", "a.tar.xz")):
    with tarfile.open(name, mode) as t: t.add("mod.py")
with zipfile.ZipFile("deflate.zip", "w", zipfile.ZIP_DEFLATED) as z: z.writestr("a.txt", "hello" * 100)
with zipfile.ZipFile("doc.odt", "w") as z:
    z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    z.writestr("content.xml", "<x/>")
with zipfile.ZipFile("doc.docx", "w") as z:
    z.writestr("[Content_Types].xml", "<Types/>")
    z.writestr("word/document.xml", "<w/>")
with zipfile.ZipFile("app.epub", "w") as z:
    z.writestr("mimetype", "application/epub+zip")
open("raw.gz", "wb").write(gzip.compress(b"hello"))
open("raw.bz2", "wb").write(bz2.compress(b"hello"))
open("raw.lzma", "wb").write(lzma.compress(b"hello", format=lzma.FORMAT_ALONE))
open("raw.xz", "wb").write(lzma.compress(b"hello"))
open("latin1-long.txt", "wb").write(("caf\xe9 " * 100 + "\n").encode("latin-1"))
open("utf8-cr.txt", "wb").write("caf\u00e9\r".encode())
open("nel.txt", "wb").write(b"line\x85line\x85")
open("mixed-nul.bin", "wb").write(b"text\0\0\0")
open("trailing-nuls.txt", "wb").write(b"hello\n" + b"\0" * 10)
open("utf16le-nobom.txt", "wb").write("hello".encode("utf-16-le"))
open("png-truncated.png", "wb").write(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
open("elf-truncated", "wb").write(b"\x7fELF\x02\x01\x01" + b"\0" * 9 + b"\x02\0")
open("ndjson-numbers.json", "wb").write(b"[1]\n[2]\n")
open("json-scalar.json", "wb").write(b"\"just a string\"")
open("html-upper.html", "wb").write(b"<HTML><BODY>x</BODY></HTML>\n")
open("xml-utf16.xml", "wb").write('<?xml version="1.0" encoding="UTF-16"?><a/>'.encode("utf-16"))
PY
exit 0
