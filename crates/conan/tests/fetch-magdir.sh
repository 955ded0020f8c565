#!/bin/sh
# Fetches the text Magdir of Debian's file 5.44 (the same data as the
# system's /usr/share/misc/magic.mgc) into $1/Magdir, with Debian's patches
# applied. Uses apt-get with a private deb-src list (the system's apt
# configuration is not changed); needs root for apt's cache lock.
# Then: export CONAN_MAGDIR=$1/Magdir
set -eu
out=${1:?usage: fetch-magdir.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/parts" "$work/lists/partial"
# The mirror this machine's apt already uses, for the source package too.
mirror=$(awk '$1 == "URIs:" { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "fetch-magdir.sh: no Debian mirror in the apt sources" >&2; exit 1; }
cat > "$work/parts/src.sources" <<SRC
Types: deb-src
URIs: $mirror
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
