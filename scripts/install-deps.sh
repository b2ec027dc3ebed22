#!/usr/bin/env bash
# Installs the Debian packages Sightline needs, if any are missing: libpq and libcurl headers, PostgreSQL 15
# with PostGIS, wrk for `make bench`, curl, jq and python3 for the README's walk-through, python3-venv for the
# tests' Python tools, and Chromium with its WebDriver, in which the tests open the HTML reports. Runs apt-get as
# root, or through sudo for a normal user.
set -euo pipefail

packages=(libpq-dev libcurl4-openssl-dev postgresql-15 postgresql-15-postgis-3 pkg-config wrk curl jq python3 python3-venv chromium
    chromium-driver tzdata)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)
"${as_root[@]}" apt-get update -qq
# The Debian package would create and start a system-wide cluster; ours are private, so skip that.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Options::=--force-confold \
    "${missing[@]}"
