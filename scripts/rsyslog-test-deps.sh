#!/usr/bin/env bash
# Installs what the syslog integration test (smartflow-policy/tests/syslog.rs) needs on Debian/Ubuntu:
# `rsyslog` (rsyslogd with imudp/imtcp) and `rsyslog-gnutls` (the `gtls` stream driver, for the TLS
# listener). The test runs its own throw-away `rsyslogd -n -f <temp conf>` as a child; this script
# neither configures nor starts the system service. Idempotent: does nothing when /usr/sbin/rsyslogd
# exists. Run as root (or with sudo available). Set SMARTFLOW_REQUIRE_RSYSLOG=1 to make the test
# fail rather than skip when rsyslogd is missing.
set -euo pipefail

if [ -x /usr/sbin/rsyslogd ]; then
  echo "rsyslogd already installed: $(/usr/sbin/rsyslogd -v 2>&1 | head -n 1)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

# Containers without an init system refuse service starts via policy-rc.d (exit 101); make sure the
# package's postinst does not start the system rsyslog here either.
policy_rc=/usr/sbin/policy-rc.d
created_policy_rc=""
if [ ! -e "$policy_rc" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy_rc" >/dev/null
  $sudo chmod 0755 "$policy_rc"
  created_policy_rc=1
fi
cleanup() {
  if [ -n "$created_policy_rc" ]; then
    $sudo rm -f "$policy_rc"
  fi
}
trap cleanup EXIT

$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends rsyslog rsyslog-gnutls
/usr/sbin/rsyslogd -v 2>&1 | head -n 1
