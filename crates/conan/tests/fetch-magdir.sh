#!/bin/sh
# Fetches the text Magdir of Debian's file 5.44 (the same data as the
# system's /usr/share/misc/magic.mgc) into $1/Magdir, with Debian's patches
# applied. Uses apt-get with a private deb-src list (the system's apt
# configuration is not changed); needs root for apt's cache lock.
# Then: export CONAN_MAGDIR=$1/Magdir
set -eu
out=${1:?usage: fetch-magdir.sh OUTDIR}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial"
cat > "$work/parts/src.sources" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
opts="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$work/parts -o Dir::State::Lists=$work/lists"
# shellcheck disable=SC2086
apt-get $opts update >/dev/null
cd "$work"
# shellcheck disable=SC2086
apt-get $opts source --download-only file=1:5.44-3 >/dev/null
tar xzf file_5.44.orig.tar.gz
tar xJf file_5.44-3.debian.tar.xz -C file-5.44
cd file-5.44
grep -v '^#' debian/patches/series | grep . | while read -r p; do
    patch -s -p1 < "debian/patches/$p"
done
rm -rf "$out/Magdir"
cp -r magic/Magdir "$out/Magdir"
echo "$out/Magdir"
