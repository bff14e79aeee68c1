#!/usr/bin/env bash
# Every test, with the parts the interoperability tests need: on a Debian machine with Rust,
# this installs the Debian packages (as root, or with sudo; otherwise it stops at once naming
# them), creates or reuses a Python venv with the pinned packages and the node modules, and
# runs the whole suite with the `interop` feature. Nothing it starts outlives it: each test
# starts and stops its own brokers, browsers and servers.
#
#   ./test.sh            everything
#   ./test.sh --test mqtt    extra arguments go to `cargo test`
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# ---- Debian packages ---------------------------------------------------------------------
missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
python3 -c "import ensurepip" >/dev/null 2>&1 || missing+=(python3-venv)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v prometheus >/dev/null 2>&1 || missing+=(prometheus)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
        sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        echo "test.sh: install these Debian packages first: ${missing[*]}" >&2
        echo "  sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# ---- Python: LabThings-FastAPI 0.3.0, Bluesky, Domus and the rest, pinned -----------------
venv=.ci/venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r tests/python/requirements.txt -r examples/bluesky/requirements.txt \
    -r tests/python/domus_requirements.txt
export LABTHINGS_PYTHON="$PWD/$venv/bin/python"

# ---- node: node-wot and the Thingweb Playground, pinned in tests/node/package.json ---------
mkdir -p .ci/node
if ! cmp -s tests/node/package.json .ci/node/package.json || [ ! -d .ci/node/node_modules ]; then
    cp tests/node/package.json .ci/node/package.json
    (cd .ci/node && npm install --no-audit --no-fund --silent)
fi
export LABTHINGS_NODE_MODULES="$PWD/.ci/node/node_modules"

# ---- the suite ----------------------------------------------------------------------------
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
cargo test --workspace --no-fail-fast --features labthings-examples/interop "$@" 2>&1 | tee "$log" || status=$?

# How many tests each interoperability part ran (a part that ran nothing is an error).
echo
echo "interoperability tests run:"
for binary in python_client client_python nodewot playground dashboard dashboard_plots mqtt refusals discovery sangaboard openflexure metrics openapi provenance bluesky directory; do
    count="$(awk -v b="tests/$binary.rs" '
        /Running / { on = index($0, b) > 0 }
        on && /^test result:/ { sub(/^test result: [a-zA-Z]+\. /, ""); print $1; on = 0 }' "$log")"
    printf '  %-14s %s\n' "$binary" "${count:-not run}"
    # (Only for the whole suite: `./test.sh --test mqtt` runs one part.)
    if [ "$#" -eq 0 ] && { [ -z "$count" ] || [ "$count" = 0 ]; }; then
        status=1
    fi
done
exit "$status"
