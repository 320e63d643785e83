#!/usr/bin/env bash
# The load benchmark: smartflowd (examples/configs/passthrough.toml) side by side with the direct
# baseline and the peer gateways, through ../shared/bench (oha against its mock upstream, all on
# loopback). Install the peers once with ../shared/bench/install-peers.sh.
#
#   benches/load.sh                                   # smartflowd,tensorzero,portkey,litellm
#   benches/load.sh --gateways smartflowd --rates 100,500,1000 --duration 10
#
# Results land in ../shared/bench/results/<timestamp>/results.md. Quote overheads and ratios
# from one run only: the machine is shared and noisy.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="${SMARTFLOW_BENCH_DIR:-$root/../shared/bench}"
cargo build --release --quiet -p smartflow-daemon --manifest-path "$root/Cargo.toml"
export SMARTFLOWD="$root/target/release/smartflowd"
export SMARTFLOW_CONFIG="$root/examples/configs/passthrough.toml"
if [ "$#" -eq 0 ]; then
  set -- --gateways smartflowd,tensorzero,portkey,litellm --rates 100,500,1000
fi
exec "$bench/run-peers.sh" "$@"
