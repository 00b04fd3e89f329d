#!/usr/bin/env bash
# Install the Autobahn|Testsuite (`wstest`, autobahntestsuite 0.8.2) without
# docker, into a private, cached prefix outside the repository.
#
# autobahntestsuite is Python 2 only and Debian 12 ships no Python 2, so we
# borrow the Python 2.7 packages of Debian 11 (bullseye) from the machine's own
# Debian mirror, unpack them with `dpkg -x` into a private prefix (nothing is
# installed system-wide), bootstrap pip from wheels fetched by the machine's
# python3, and pip-install autobahntestsuite with py2-compatible pins.
#
# Usage:   autobahn/install.sh
# Env:     AUTOBAHN_PREFIX  cache/prefix dir (default ~/.cache/rfc6455-autobahn)
#
# Idempotent: once the install has completed (marker file) and a smoke check
# passes, it exits in well under a second.
set -euo pipefail

PREFIX="${AUTOBAHN_PREFIX:-$HOME/.cache/rfc6455-autobahn}"
P="$PREFIX/py2"                 # the dpkg -x root holding usr/bin/python2.7
APT_DIR="$PREFIX/apt"           # private apt state (sources, lists, cache)
DEB_DIR="$PREFIX/debs"          # downloaded .deb files
WHEEL_DIR="$PREFIX/bootstrap"   # pip/setuptools/wheel wheels for py2.7
SITE="$P/usr/lib/python2.7/dist-packages"
# Bump when the recipe changes so existing caches are rebuilt.
MARKER="$PREFIX/.installed-v1"

log() { printf '[autobahn-install] %s\n' "$*"; }
die() { printf '[autobahn-install] ERROR: %s\n' "$*" >&2; exit 1; }

# Run the private python2.7 with the environment it needs.
py2() {
    LD_LIBRARY_PATH="$P/usr/lib/x86_64-linux-gnu:$P/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    PYTHONHOME="$P/usr" \
    PYTHONNOUSERSITE=1 \
        "$P/usr/bin/python2.7" "$@"
}

# Smoke check: wstest's entry point imports and prints its usage.
smoke_check() {
    py2 -c 'import sys; from autobahntestsuite.wstest import run; sys.argv=["wstest","--help"]; run()' \
        >/dev/null 2>&1
}

if [[ -f "$MARKER" ]] && smoke_check; then
    log "already installed in $PREFIX (marker $(basename "$MARKER") present, smoke check OK)"
    exit 0
fi

log "installing into $PREFIX"
mkdir -p "$PREFIX" "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$DEB_DIR" "$WHEEL_DIR"

# --- 1. Python 2.7 from Debian 11 (bullseye) -------------------------------
if [[ ! -x "$P/usr/bin/python2.7" ]]; then
    # Read the mirror from the machine's apt config rather than hard-coding it:
    # the first `URIs:` line of the deb822 sources file (the main archive).
    SOURCES=/etc/apt/sources.list.d/debian.sources
    [[ -r "$SOURCES" ]] || die "cannot read $SOURCES to find the Debian mirror"
    MIRROR="$(awk '/^URIs:/ { print $2; exit }' "$SOURCES")"
    [[ -n "$MIRROR" ]] || die "no URIs: line in $SOURCES"
    log "using Debian mirror from $SOURCES"

    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bullseye main" \
        > "$APT_DIR/sources.list"
    APT_OPTS=(
        -o "Dir::Etc::sourcelist=$APT_DIR/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::Cache::archives=$APT_DIR/archives"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Get::List-Cleanup=0"
    )
    log "apt-get update (private bullseye list)"
    apt-get "${APT_OPTS[@]}" update -qq

    PKGS=(python2.7 python2.7-minimal libpython2.7-stdlib libpython2.7-minimal
          libffi7 libssl1.1 libpython2.7-dev python2.7-dev)
    log "apt-get download ${PKGS[*]}"
    (cd "$DEB_DIR" && apt-get "${APT_OPTS[@]}" download -q "${PKGS[@]}")

    rm -rf "$P"
    mkdir -p "$P"
    for deb in "$DEB_DIR"/*.deb; do
        log "unpacking $(basename "$deb")"
        dpkg -x "$deb" "$P"
    done
fi
py2 -c 'import ssl, ctypes, zlib, sqlite3' || die "private python2.7 is broken"
log "python: $(py2 --version 2>&1)"

# --- 2. pip / setuptools / wheel for Python 2.7 ------------------------------
PIP_WHL="$WHEEL_DIR/pip-20.3.4-py2.py3-none-any.whl"
if [[ ! -f "$PIP_WHL" ]]; then
    log "downloading py2-compatible pip/setuptools/wheel with python3"
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 2.7 \
        -d "$WHEEL_DIR" pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
fi
if ! py2 -m pip --version >/dev/null 2>&1; then
    log "installing pip/setuptools/wheel into $SITE"
    # Debian's python2 only scans dist-packages, so install straight into it.
    py2 "$PIP_WHL/pip" install -q --disable-pip-version-check --no-warn-script-location \
        --no-index --find-links "$WHEEL_DIR" --target "$SITE" \
        pip==20.3.4 setuptools==44.1.1 wheel==0.37.1
fi

# --- 3. autobahntestsuite -----------------------------------------------------
log "pip install autobahntestsuite==0.8.2 (this compiles a few C extensions)"
CFLAGS="-I$P/usr/include/python2.7 -I$P/usr/include" \
    py2 -m pip install -q --disable-pip-version-check --no-warn-script-location \
        --upgrade --target "$SITE" \
        autobahntestsuite==0.8.2 "$@"

smoke_check || die "wstest smoke check failed"
date -u +%FT%TZ > "$MARKER"
log "done: run wstest via autobahn/wstest (prefix $PREFIX)"
