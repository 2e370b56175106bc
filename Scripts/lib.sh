# Shared by Scripts/run, Scripts/test and Scripts/bench: install what is missing, find the toolchain.
# Sourced, not run.

# ensure_packages PKG... : installs the Debian packages that are not installed yet. As root it runs
# apt-get itself; otherwise it names the command to run and fails.
ensure_packages() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "tsmfs: missing packages: ${missing[*]}" >&2
        echo "tsmfs: install them as root: apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "tsmfs: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "${missing[@]}" >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q "${missing[@]}" >/dev/null
    fi
}

# ensure_swift : puts the Swift toolchain on PATH (it lives in /opt/swift on these machines).
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1; then
        for dir in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
            [ -x "$dir/swift" ] && export PATH="$dir:$PATH" && break
        done
    fi
    command -v swift >/dev/null 2>&1 || { echo "tsmfs: no Swift toolchain found (need Swift 6)" >&2; return 1; }
}

# ensure_fuse_device : /dev/fuse must exist for any mount.
ensure_fuse_device() {
    [ -c /dev/fuse ] && return 0
    modprobe fuse 2>/dev/null || true
    [ -c /dev/fuse ] || { echo "tsmfs: /dev/fuse is missing (load the fuse module: modprobe fuse)" >&2; return 1; }
}

# ensure_python_cryptography : python3 with the `cryptography` package (the independent verifier
# of tsmfs evidence uses it). Tries pip, then Debian's python3-cryptography.
ensure_python_cryptography() {
    ensure_packages python3
    python3 -c 'import cryptography' 2>/dev/null && return 0
    python3 -m pip install -q cryptography >/dev/null 2>&1 || true
    python3 -c 'import cryptography' 2>/dev/null && return 0
    ensure_packages python3-cryptography
    python3 -c 'import cryptography' 2>/dev/null || {
        echo "tsmfs: python3 cannot import cryptography (pip install cryptography)" >&2
        return 1
    }
}

# ensure_pip_packages NAME==VERSION... : pinned PyPI packages for the real third-party clients the
# tests run (they only need the ordinary pip of the python3 on PATH).
ensure_pip_packages() {
    local missing=()
    for requirement in "$@"; do
        python3 -c "import importlib.metadata as m, sys; sys.exit(m.version('${requirement%%==*}') != '${requirement##*==}')" 2>/dev/null \
            || missing+=("$requirement")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "tsmfs: installing ${missing[*]} from PyPI" >&2
    python3 -m pip install -q --root-user-action=ignore "${missing[@]}" >/dev/null
}

BUILD_PACKAGES=(fuse3 libfuse3-dev pkg-config)
