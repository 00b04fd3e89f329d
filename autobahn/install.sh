#!/usr/bin/env bash
# Install the Autobahn|Testsuite (`wstest`, autobahntestsuite 0.8.2) without
# docker, into a private, cached prefix outside the repository.
#
# autobahntestsuite is Python 2 only and Debian 12 ships no Python 2, so we
# borrow the Python 2.7 packages of Debian 11 (bullseye) from the machine's own
# Debian mirror, unpack them with `dpkg -x` into a private prefix (nothing is
# installed system-wide, no root needed beyond reading the apt keyring),
# bootstrap pip from py2 wheels fetched by the machine's python3, and
# pip-install autobahntestsuite with the pins in py2-constraints.txt.
#
# Usage:   autobahn/install.sh
# Env:     AUTOBAHN_PREFIX  cache/prefix dir (default ~/.cache/rfc6455-autobahn)
# Then:    autobahn/wstest --help
#
# Idempotent: once an install has completed (marker file recording the hash of
# this recipe) and the smoke check passes, it exits within a second or so.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX="${AUTOBAHN_PREFIX:-$HOME/.cache/rfc6455-autobahn}"
export AUTOBAHN_PREFIX="$PREFIX"   # for the autobahn/wstest wrapper
P="$PREFIX/py2"                    # dpkg -x root holding usr/bin/python2.7
APT_DIR="$PREFIX/apt"              # private apt state (sources, lists, cache)
DEB_DIR="$PREFIX/debs"             # downloaded .deb files
WHEEL_DIR="$PREFIX/bootstrap"      # pip/setuptools/wheel wheels for py2.7
SITE="$P/usr/lib/python2.7/dist-packages"  # the only site dir Debian's python2 scans
CONSTRAINTS="$HERE/py2-constraints.txt"
MARKER="$PREFIX/.installed"

PKGS=(python2.7 python2.7-minimal libpython2.7-stdlib libpython2.7-minimal
      libffi7 libssl1.1 libpython2.7-dev python2.7-dev)
BOOTSTRAP=(pip==20.3.4 setuptools==44.1.1 wheel==0.37.1)

log() { printf '[autobahn-install] %s\n' "$*"; }
die() { printf '[autobahn-install] ERROR: %s\n' "$*" >&2; exit 1; }

# Run the private python2.7 with the environment it needs.
py2() {
    LD_LIBRARY_PATH="$P/usr/lib/x86_64-linux-gnu:$P/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    PYTHONHOME="$P/usr" \
    PYTHONNOUSERSITE=1 \
        "$P/usr/bin/python2.7" "$@"
}

# Identity of the recipe: changing the pins or the package lists invalidates
# the marker and triggers a (re)install.
recipe_hash() {
    { cat "$CONSTRAINTS"; echo "${PKGS[*]} ${BOOTSTRAP[*]}"; } | sha256sum | cut -d' ' -f1
}

# Smoke check: the wstest wrapper runs and reports the expected versions.
smoke_check() {
    "$HERE/wstest" --autobahnversion 2>/dev/null | grep -qx 'AutobahnTestSuite 0.8.2'
}

if [[ -f "$MARKER" && "$(cat "$MARKER")" == "$(recipe_hash)" ]] && smoke_check; then
    log "wstest already installed in $PREFIX (smoke check OK)"
    exit 0
fi

start=$SECONDS
log "installing wstest into $PREFIX"
rm -f "$MARKER"
mkdir -p "$PREFIX" "$APT_DIR/lists/partial" "$APT_DIR/archives/partial" "$DEB_DIR" "$WHEEL_DIR"

# --- 1. Python 2.7 from Debian 11 (bullseye) ---------------------------------
if [[ ! -x "$P/usr/bin/python2.7" ]] || ! py2 -c 'import ssl, ctypes' 2>/dev/null; then
    # Read the mirror from the machine's apt configuration instead of naming
    # one: the first `URIs:` entry of the deb822 sources file (main archive).
    SOURCES=/etc/apt/sources.list.d/debian.sources
    [[ -r "$SOURCES" ]] || die "cannot read $SOURCES to find the Debian mirror"
    MIRROR="$(awk '/^URIs:/ { print $2; exit }' "$SOURCES")"
    [[ -n "$MIRROR" ]] || die "no URIs: line in $SOURCES"
    log "using the Debian mirror configured in $SOURCES"

    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR bullseye main" \
        > "$APT_DIR/sources.list"
    # A private sources list, lists dir and archive cache: the system's apt
    # state is neither read nor modified.
    APT_OPTS=(
        -o "Dir::Etc::sourcelist=$APT_DIR/sources.list"
        -o "Dir::Etc::sourceparts=-"
        -o "Dir::State::Lists=$APT_DIR/lists"
        -o "Dir::Cache::archives=$APT_DIR/archives"
        -o "Dir::Cache::pkgcache="
        -o "Dir::Cache::srcpkgcache="
        -o "APT::Sandbox::User=root"
    )
    log "apt-get update (private bullseye sources list)"
    apt-get "${APT_OPTS[@]}" update -qq

    log "apt-get download ${PKGS[*]}"
    rm -f "$DEB_DIR"/*.deb
    (cd "$DEB_DIR" && apt-get "${APT_OPTS[@]}" download -qq "${PKGS[@]}")

    rm -rf "$P"
    mkdir -p "$P"
    for deb in "$DEB_DIR"/*.deb; do
        log "unpacking $(basename "$deb")"
        dpkg -x "$deb" "$P"
    done
fi
py2 -c 'import ssl, ctypes, zlib, sqlite3' || die "private python2.7 is broken"
log "using $(py2 --version 2>&1) from $P"

# --- 2. pip / setuptools / wheel for Python 2.7 --------------------------------
PIP_WHL="$WHEEL_DIR/pip-20.3.4-py2.py3-none-any.whl"
if [[ ! -f "$PIP_WHL" ]]; then
    log "downloading py2 wheels of ${BOOTSTRAP[*]} (with python3 -m pip)"
    python3 -m pip download -q --disable-pip-version-check --no-deps \
        --only-binary=:all: --python-version 2.7 -d "$WHEEL_DIR" "${BOOTSTRAP[@]}"
fi
if ! py2 -m pip --version >/dev/null 2>&1; then
    log "installing ${BOOTSTRAP[*]} into $SITE (pip run from its wheel)"
    PYTHONWARNINGS=ignore py2 "$PIP_WHL/pip" install -q --disable-pip-version-check \
        --no-python-version-warning --no-warn-script-location \
        --no-index --find-links "$WHEEL_DIR" --target "$SITE" "${BOOTSTRAP[@]}"
fi

# --- 3. autobahntestsuite --------------------------------------------------------
# Some dependencies (wsaccel, ujson, twisted, zope.interface, markupsafe) are
# compiled from source against the unpacked python2.7 headers.
log "pip install autobahntestsuite==0.8.2 with the pins in $(basename "$CONSTRAINTS")"
CFLAGS="-I$P/usr/include/python2.7 -I$P/usr/include" PYTHONWARNINGS=ignore \
    py2 -m pip install -q --disable-pip-version-check --no-python-version-warning \
        --no-warn-script-location --upgrade --target "$SITE" \
        -c "$CONSTRAINTS" autobahntestsuite==0.8.2

smoke_check || die "smoke check failed: '$HERE/wstest --autobahnversion' does not report 0.8.2"
recipe_hash > "$MARKER"
log "done in $((SECONDS - start))s; run wstest as $HERE/wstest"
