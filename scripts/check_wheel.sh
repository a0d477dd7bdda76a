#!/usr/bin/env bash
# Build the wheel, install it into a fresh virtual environment whose PATH has no Node.js,
# and check that JupyterLab and Jupyter Server both see the extension: the labextension
# must be prebuilt inside the wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1091
. .venv/bin/activate
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
uv build -q --wheel --out-dir "$work/dist" .
wheel=$(ls "$work"/dist/srcstage_jlab-*.whl)
python - "$wheel" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
need = ["share/jupyter/labextensions/srcstage-jlab/package.json",
        "share/jupyter/labextensions/srcstage-jlab/install.json",
        "etc/jupyter/jupyter_server_config.d/srcstage_jlab.json"]
missing = [n for n in need if not any(x.endswith(n) for x in names)]
js = [x for x in names if "/labextensions/srcstage-jlab/static/" in x and x.endswith(".js")]
assert not missing and js, f"wheel lacks {missing or 'the built JavaScript'}"
print(f"[srcstage] wheel {sys.argv[1].rsplit('/', 1)[-1]}: {len(names)} files, {len(js)} prebuilt JS files")
PY
python -m venv "$work/venv"
uv pip install -q --python "$work/venv/bin/python" "$wheel" "jupyterlab>=4.6,<5"
# No Node.js on the PATH from here on: only the new environment's programs.
lab=$(env -i HOME="$work" PATH="$work/venv/bin" "$work/venv/bin/jupyter" labextension list 2>&1)
server=$(env -i HOME="$work" PATH="$work/venv/bin" "$work/venv/bin/jupyter" server extension list 2>&1)
grep -Eq "srcstage-jlab.*enabled.*OK" <<<"$lab" || { echo "$lab"; exit 1; }
grep -Eq "srcstage_jlab.*OK" <<<"$server" || { echo "$server"; exit 1; }
env -i HOME="$work" PATH="$work/venv/bin" "$work/venv/bin/python" -c \
  'import shutil, srcstage_jlab as s; assert shutil.which("node") is None; print("[srcstage] loads without node, version", s.__version__)'
echo "[srcstage] the wheel installs and loads without Node.js"
