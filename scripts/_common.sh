# Shared by scripts/setup, scripts/test, scripts/lint and scripts/develop.
# Sourced, not run: it defines paths and helpers and changes nothing.

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$REPO_ROOT/.venv
VENV_PYTHON=$VENV/bin/python
SETUP_STAMP=$VENV/.clarifai-setup-stamp

# Home Assistant 2026.x refuses to start on anything older.
MIN_PYTHON=3.14.2

# Every file whose change means the venv must be brought up to date.
REQUIREMENT_FILES=(requirements.txt requirements_test.txt requirements_lock.txt)

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Print the version of interpreter $1 if it is new enough and can build a venv.
python_fits() {
    "$1" - "$MIN_PYTHON" 2>/dev/null <<'EOF'
import sys

wanted = tuple(int(part) for part in sys.argv[1].split("."))
if sys.version_info[:3] < wanted:
    raise SystemExit(1)

# Debian splits venv and ensurepip into python3.X-venv; without them the
# interpreter runs but cannot create the project's venv.
import ensurepip, venv  # noqa: E401

print(sys.version.split()[0])
EOF
}

# Print the stamp the venv must carry to count as up to date.
expected_stamp() {
    local version
    version=$("$VENV_PYTHON" -c 'import sys; print(sys.version)' 2>/dev/null) || return 1
    {
        printf 'python %s\n' "$version"
        (cd "$REPO_ROOT" && sha256sum "${REQUIREMENT_FILES[@]}")
    } | sha256sum | cut -d' ' -f1
}

# Succeed when .venv exists, runs, and was installed from the current pins.
venv_is_current() {
    [ -x "$VENV_PYTHON" ] && [ -f "$SETUP_STAMP" ] || return 1
    local expected
    expected=$(expected_stamp) || return 1
    [ "$(cat "$SETUP_STAMP")" = "$expected" ]
}

# Run scripts/setup unless the venv is already current, then put it on PATH.
ensure_venv() {
    if ! venv_is_current; then
        "$REPO_ROOT/scripts/setup" || die "scripts/setup failed"
    fi
    export PATH="$VENV/bin:$PATH"
    export VIRTUAL_ENV=$VENV
}

# Make pip ($1 is an interpreter that has it) ignore the machine's pip settings.
#
# A machine's pip configuration may add constraint files, --find-links folders
# and extra indexes (this one's does); the lock file decides every version, so
# drop those and keep only what says how to reach the index: its URL and CA.
isolate_pip() {
    local python=$1 index_url cert
    index_url=${PIP_INDEX_URL:-$("$python" -m pip config get global.index-url 2>/dev/null || true)}
    cert=${PIP_CERT:-$("$python" -m pip config get global.cert 2>/dev/null || true)}
    unset PIP_CONSTRAINT PIP_FIND_LINKS PIP_EXTRA_INDEX_URL PIP_CERT
    export PIP_CONFIG_FILE=/dev/null PIP_INDEX_URL=${index_url:-https://pypi.org/simple}
    [ -z "$cert" ] || export PIP_CERT=$cert
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
}
