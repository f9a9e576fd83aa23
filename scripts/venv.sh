# Sourced by the other scripts: creates .venv on first use and keeps it in
# step with pyproject.toml (re-installs when the file changed).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON_BIN" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "bibnetz needs Python 3.11 or newer (found: $("$PYTHON_BIN" --version 2>&1))" >&2
        exit 1
    }
    echo "Creating virtual environment in $VENV …" >&2
    "$PYTHON_BIN" -m venv "$VENV"
fi
STAMP="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
    echo "Installing bibnetz and its dependencies into $VENV …" >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet -e "$ROOT[dev]" >&2
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi
export PATH="$VENV/bin:$PATH"
