#!/bin/sh
# Regenerates tests/golden/ from tests/sample/ with the blogger of this tree.
# Run from anywhere; review the diff (git diff apps/blogger/tests/golden) before committing.
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$here/golden"
cargo run --quiet -p blogger -- build --source "$here/sample" --output "$here/golden" --check-links
rm -f "$here/golden/.blogger-cache.json"
