#!/usr/bin/env bash
# Install everything srcstage-jlab needs into ./.venv: the extension (built), the sandbox
# (Rucio server, PostgreSQL client libraries) and, with --test, the test tools.
# System packages (PostgreSQL, and Chromium for browser tests) come from Debian when
# missing and we are root; otherwise we say exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

want_test=0
want_hub=0
[[ "${1:-}" == "--test" ]] && want_test=1 && want_hub=1
[[ "${1:-}" == "--hub" ]] && want_hub=1

say() { printf '\033[1m[srcstage]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[srcstage] %s\033[0m\n' "$*" >&2; exit 1; }

command -v python3 >/dev/null || die "python3 (3.10 or newer) is needed."
python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "Python 3.10 or newer is needed."
command -v node >/dev/null || die "Node.js 18 or newer is needed to build the JupyterLab extension."

apt_missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || apt_missing+=(postgresql)
if (( want_test )) && [[ ! -x /usr/bin/chromium ]]; then apt_missing+=(chromium); fi
if (( ${#apt_missing[@]} )); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    say "Installing from Debian: ${apt_missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_missing[@]}" >/dev/null
  else
    die "Missing system packages: ${apt_missing[*]}. Install them (e.g. sudo apt-get install ${apt_missing[*]}) and run again."
  fi
fi

if [[ ! -x .venv/bin/python ]]; then
  say "Creating .venv"
  python3 -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --disable-pip-version-check uv
extras="demo"
(( want_hub )) && extras="demo,hub"
(( want_test )) && extras="test"
say "Installing srcstage_jlab[$extras] (builds the JupyterLab extension; first time takes a few minutes)"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
uv pip install -q --compile-bytecode -e ".[$extras]"
# An editable install does not put the labextension where JupyterLab looks: link it.
jupyter labextension develop --overwrite . >/dev/null
jupyter server extension enable --sys-prefix srcstage_jlab >/dev/null 2>&1 || true
jupyter labextension list 2>&1 | grep -q "srcstage-jlab.*enabled.*OK" \
  || die "The srcstage-jlab labextension is not enabled (see 'jupyter labextension list')."
if (( want_hub )); then
  # JupyterHub's proxy (npm package), private to this checkout: deploy/jupyterhub_config.py and
  # the hub tests find it at .venv/hub-proxy/node_modules/.bin/configurable-http-proxy.
  chp=.venv/hub-proxy/node_modules/.bin/configurable-http-proxy
  if [[ ! -x $chp ]]; then
    say "Installing configurable-http-proxy (npm) for JupyterHub"
    npm install --silent --no-audit --no-fund --prefix .venv/hub-proxy configurable-http-proxy@5.3.0 >/dev/null
  fi
  [[ -x $chp ]] || die "configurable-http-proxy did not install (npm install --prefix .venv/hub-proxy configurable-http-proxy)."
fi
say "Installed."
