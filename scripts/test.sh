#!/usr/bin/env bash
# Runs every test: the Rust workspace (unit, integration against the real daemon, doc tests,
# examples built), then the official `openai` and `anthropic` Python SDKs against a real smartflowd.
# Needs: a Rust toolchain, python3 (the SDK is installed into target/sdk-venv from PyPI), openssl
# (RSA keys for the JWT tests, TLS certificates for the syslog tests) and Debian's slapd and rsyslog
# (installed here when missing, for the LDAP and syslog tests against the real servers).
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/slapd-test-deps.sh
./scripts/rsyslog-test-deps.sh
export SMARTFLOW_REQUIRE_SLAPD=1 SMARTFLOW_REQUIRE_RSYSLOG=1
cargo test --workspace
# The all-MiniLM-L6-v2 embedder and the distillation (feature `minilm`, candle), on a tiny random
# BERT; the real model's tests run too when models/all-MiniLM-L6-v2 exists (scripts/fetch-minilm.sh).
cargo test -p smartflow-cache --features minilm

OPENAI_VERSION="${OPENAI_VERSION:-3.54.0}"
ANTHROPIC_VERSION="${ANTHROPIC_VERSION:-2.12.0}"
venv=target/sdk-venv
if ! "$venv/bin/python" -c "
import sys, openai, anthropic
sys.exit(openai.__version__ != '$OPENAI_VERSION' or anthropic.__version__ != '$ANTHROPIC_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "openai==$OPENAI_VERSION" "anthropic==$ANTHROPIC_VERSION"
fi
cargo build --quiet -p smartflow-daemon --bin smartflowd --example mock_upstream
# Against the quickstart (in-process mock provider), then through every upstream dialect
# (OpenAI, Azure OpenAI, Anthropic, Gemini, Bedrock) served by the mock upstream.
mock=target/debug/examples/mock_upstream
"$venv/bin/python" smartflow-daemon/tests/sdk/openai_sdk.py target/debug/smartflowd examples/quickstart.toml "$mock"
"$venv/bin/python" smartflow-daemon/tests/sdk/anthropic_sdk.py target/debug/smartflowd examples/quickstart.toml "$mock"
