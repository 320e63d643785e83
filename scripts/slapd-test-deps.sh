#!/usr/bin/env bash
# Installs what the LDAP integration test (smartflow-policy/tests/ldap.rs) needs on Debian/Ubuntu:
# OpenLDAP's `slapd` (plus `slapadd`/`slappasswd`) and the `ldap-utils` clients. The package's own
# directory is not configured (the test runs its own throw-away `slapd` with a temporary config), so
# no system service is created or started. Idempotent: does nothing when /usr/sbin/slapd exists.
# Run as root (or with sudo available). Set SMARTFLOW_REQUIRE_SLAPD=1 to make the test fail rather
# than skip when slapd is missing.
set -euo pipefail

if [ -x /usr/sbin/slapd ]; then
  echo "slapd already installed: $(/usr/sbin/slapd -VV 2>&1 | head -n 1)"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
# Skip the package's initial directory set-up: no database, and no slapd service started.
echo "slapd slapd/no_configuration boolean true" | $sudo debconf-set-selections
$sudo apt-get update -q
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slapd ldap-utils
/usr/sbin/slapd -VV 2>&1 | head -n 1
