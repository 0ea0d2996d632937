# Assemble a private CPython 3.14 on Debian 12 (amd64), sourced by scripts/setup.
#
# Debian 12 ships no Python >= 3.14.2 and uv's interpreter downloads may be out
# of reach, but Debian sid publishes python3.14 as ordinary .debs. They need a
# newer glibc than bookworm's, so sid's libc6 comes along: all packages are
# downloaded with an apt-get that sees only a private sources list, private
# lists and an empty dpkg status (so it fetches the whole dependency closure),
# unpacked with dpkg-deb into a private root, and the interpreter is patched to
# use that root's dynamic loader and libraries. Nothing outside the prefix is
# written, apart from installing bookworm's patchelf when it is missing.

# libpython3.14-dev brings the C headers, so that packages without a wheel for
# Python 3.14 (Home Assistant installs some at run time) can still be built.
SID_PACKAGES=(python3.14 python3.14-venv libpython3.14-dev libc6 libssl3t64 libstdc++6)

# Print the private interpreter's version if it only loads private libraries.
private_python_verifies() {
    local prefix=$1
    [ -x "$prefix/bin/python3.14" ] && [ -f "$prefix/root/usr/include/python3.14/Python.h" ] \
        || return 1
    "$prefix/bin/python3.14" - "$prefix/root" "$MIN_PYTHON" 2>/dev/null <<'EOF'
import sys

root, minimum = sys.argv[1], sys.argv[2]
if sys.version_info[:3] < tuple(int(part) for part in minimum.split(".")):
    raise SystemExit(1)

# Load the compiled standard library modules Home Assistant and pip rely on,
# then check that every shared object mapped came from the private root.
import bz2, ctypes, decimal, ensurepip, hashlib, lzma, sqlite3, ssl, uuid  # noqa: E401
import venv, zlib, zoneinfo  # noqa: E401

with open("/proc/self/maps") as maps:
    mapped = {line.split()[-1] for line in maps if ".so" in line}
foreign = sorted(path for path in mapped if not path.startswith(root + "/"))
if foreign:
    print("loaded from outside the private root:", *foreign, sep="\n  ", file=sys.stderr)
    raise SystemExit(1)
print(sys.version.split()[0])
EOF
}

# Build $1/bin/python3.14 from Debian sid's packages.
build_private_python() {
    local prefix=$1
    local root=$prefix/root
    local work=$prefix/apt
    local mirror=${CLARIFAI_DEBIAN_MIRROR:-http://deb.debian.org/debian}

    command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null \
        || die "no Python >= $MIN_PYTHON found, and this is not a Debian system to assemble one on"
    [ "$(dpkg --print-architecture)" = amd64 ] \
        || die "no Python >= $MIN_PYTHON found; assembling one from Debian packages is only done on amd64"

    if ! command -v patchelf >/dev/null; then
        say "installing patchelf from the system's apt sources"
        [ "$(id -u)" = 0 ] || die "patchelf is missing: run 'sudo apt-get install patchelf' and retry"
        apt-get install -y -q patchelf || { apt-get update -q && apt-get install -y -q patchelf; } \
            || die "could not install patchelf"
    fi

    say "assembling Python 3.14 from Debian sid packages in $prefix"
    rm -rf "$work" "$root.partial"
    mkdir -p "$work/lists/partial" "$work/archives/partial" "$work/preferences.d" "$root.partial"
    : > "$work/status"
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" \
        > "$work/sources.list"

    local apt=(apt-get -q -y
        -o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=-
        -o Dir::Etc::Preferences="$work/preferences" -o Dir::Etc::PreferencesParts="$work/preferences.d"
        -o Dir::State::Lists="$work/lists" -o Dir::State::Status="$work/status"
        -o Dir::Cache="$work" -o Dir::Cache::Archives="$work/archives"
        -o APT::Install-Recommends=false -o APT::Install-Suggests=false)
    # As root apt downloads as the _apt user, which cannot enter a prefix under
    # /root; downloading as the caller avoids a warning per file.
    [ "$(id -u)" = 0 ] && apt+=(-o APT::Sandbox::User=root)

    say "downloading ${SID_PACKAGES[*]} and their dependencies"
    "${apt[@]}" update >/dev/null || die "apt-get update against $mirror (sid) failed"
    "${apt[@]}" --download-only install "${SID_PACKAGES[@]}" >/dev/null \
        || die "downloading the sid packages failed"

    # The archive folder started empty, so it holds exactly the closure.
    local debs=("$work"/archives/*.deb)
    [ "${#debs[@]}" -gt 10 ] || die "expected a few dozen .debs, got ${#debs[@]}"
    say "unpacking ${#debs[@]} packages into $root"
    local deb
    for deb in "${debs[@]}"; do
        dpkg-deb -x "$deb" "$root.partial"
    done

    # The paths name the final root, which exists once the move below is done.
    local libdir=$root/usr/lib/x86_64-linux-gnu
    patchelf --set-interpreter "$libdir/ld-linux-x86-64.so.2" \
        --force-rpath --set-rpath "$libdir" "$root.partial/usr/bin/python3.14"

    # ensurepip takes pip's wheel from the build-time WHEEL_PKG_DIR,
    # /usr/share/python-wheels/, which on the host is bookworm's old pip (or
    # nothing): point it at sid's wheel inside the private root.
    sed -i "s#\(['\"]\)/usr/share/python-wheels/#\1$root/usr/share/python-wheels/#" \
        "$root.partial"/usr/lib/python3.14/_sysconfigdata__*.py \
        "$root.partial"/usr/lib/python3.14/_sysconfig_vars__*.json

    # Debian's pyconfig.h includes <x86_64-linux-gnu/python3.14/pyconfig.h> from
    # the system include folder, where the host has none: use the real one.
    cp "$root.partial/usr/include/x86_64-linux-gnu/python3.14/pyconfig.h" \
        "$root.partial/usr/include/python3.14/pyconfig.h"

    # Static archives from the -dev packages are never linked here (about 60 MB).
    find "$root.partial" -name '*.a' -delete

    rm -rf "$root"
    mv "$root.partial" "$root"
    mkdir -p "$prefix/bin"
    ln -sfn "$root/usr/bin/python3.14" "$prefix/bin/python3.14"
    # The downloaded .debs are no longer needed (about 45 MB).
    rm -rf "$work"

    private_python_verifies "$prefix" >/dev/null \
        || die "the assembled interpreter in $prefix failed its check"
}
