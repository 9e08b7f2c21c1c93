#!/usr/bin/env bash
# Installs the system pieces the tests need when they are missing: the real MySQL clients the
# client tests run (mysql CLI, MariaDB Connector/J, MariaDB ODBC, mysqlclient's C library, a JDK,
# tmux, openssl, haproxy for the S3 fault tests and the shared cluster's endpoint, iproute2 for the shared-mode
# test across network namespaces, chromium + chromium-driver for the status pages' browser
# test), mycli and Superset (each in a venv of its own), MySQL Connector/J (taken from the `wbjdbc`
# wheel into a cache dir, never committed), mysqlclient (built here, after its C library), selenium, and
# PostgreSQL running.
set -euo pipefail
cd "$(dirname "$0")/.."
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
VENV="${VENV:-.venv}"

# Debian packages, installed only when one is missing (apt-get update at most once).
APT_PACKAGES=(mariadb-client libmariadb-java unixodbc odbc-mariadb libmariadb-dev pkg-config tmux openssl haproxy iproute2
  chromium chromium-driver)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
if [ "${#missing[@]}" -gt 0 ]; then
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
fi

# Python clients that need the Debian pieces above (mysqlclient compiles against libmariadb).
if [ -x "$VENV/bin/python" ]; then
  "$VENV/bin/python" -c "import MySQLdb" 2>/dev/null || "$VENV/bin/pip" install -q "mysqlclient>=2.2"
  "$VENV/bin/python" -c "import pyodbc" 2>/dev/null || "$VENV/bin/pip" install -q "pyodbc>=5"
  # a venv made before the test extra named them (tests/test_http.py, tests/test_http_browser.py)
  "$VENV/bin/python" -c "import requests, selenium" 2>/dev/null || "$VENV/bin/pip" install -q "requests>=2.31" "selenium>=4.20"
  # pydoris (its SQLAlchemy doris:// dialect, tests/test_clients_python.py) requires mysqlclient, so it comes
  # after it: in the project's test extra it made a fresh machine's first install fail on the missing C library.
  "$VENV/bin/python" -c "import pydoris" 2>/dev/null || "$VENV/bin/pip" install -q "pydoris>=1.2"
  # MySQL Connector/J 8.0.33: Debian has none; the jar ships inside the PyPI wheel wbjdbc (GPL: test use only).
  JARS="$VENV/test-jars"
  if [ ! -s "$JARS/mysql-connector-j-8.0.33.jar" ]; then
    mkdir -p "$JARS/wheel"
    "$VENV/bin/pip" download -q --no-deps --only-binary=:all: -d "$JARS/wheel" "wbjdbc==2.4.0"
    "$VENV/bin/python" - "$JARS" <<'EOF'
import glob, sys, zipfile
jars = sys.argv[1]
wheel = glob.glob(f"{jars}/wheel/wbjdbc-*.whl")[0]
with zipfile.ZipFile(wheel) as zf:
    data = zf.read("wbjdbc/resources/maven/mysql/mysql-connector-j-8.0.33.jar")
with open(f"{jars}/mysql-connector-j-8.0.33.jar.tmp", "wb") as out:
    out.write(data)
EOF
    mv "$JARS/mysql-connector-j-8.0.33.jar.tmp" "$JARS/mysql-connector-j-8.0.33.jar"
    rm -rf "$JARS/wheel"
  fi
fi

# mycli in a venv of its own: it pins sqlglot to another version than the project's.
if [ -x "$VENV/bin/python" ] && [ ! -x "$VENV/tools/mycli/bin/mycli" ]; then
  "$VENV/bin/python" -m venv "$VENV/tools/mycli"
  "$VENV/tools/mycli/bin/pip" install -q "mycli>=1.27"
fi

# Superset with its Doris engine spec (pydoris), in a venv of its own: it needs SQLAlchemy 1.4. Superset 6.1
# breaks with Flask-Caching 2.2 and later and does not declare cachetools, which it imports.
if [ -x "$VENV/bin/python" ] && [ ! -x "$VENV/tools/superset/bin/superset" ]; then
  "$VENV/bin/python" -m venv "$VENV/tools/superset"
  "$VENV/tools/superset/bin/pip" install -q "apache-superset==6.1.0" "flask-caching==2.1.0" cachetools pydoris mysqlclient
fi

if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -q -h 127.0.0.1 2>/dev/null; then
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
fi
