"""Write a Jupyter server config that points srcstage-jlab at a running sandbox.

    python -m srcstage_jlab.sandbox.demo --state-dir DIR --out jupyter_server_config.json

Users sign in with the device flow from the sidebar (the sandbox's approval page
stands in for SKA IAM). The local area's directory is also this server's mount of it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def demo_config(ready: dict, hub: bool = False) -> dict:
    """`hub`: for single-user servers behind the demo JupyterHub (their token comes from the hub)."""
    config = {
        "ServerApp": {"jpserver_extensions": {"srcstage_jlab": True}},
        "SrcStage": {
            "auth_api_url": ready["auth_api_url"],
            "site_capabilities_api_url": ready["site_capabilities_api_url"],
            "data_management_api_url": ready["data_management_api_url"],
            "jupyterhub_host": ready["jupyterhub_host"],
            "mounts": {ready["local_area"]["name"]: ready["local_area"]["directory"]},
            "max_lifetime": f"{ready['max_stage_lifetime_s']}s",
            "access_token_env": "",
            "refresh_token_env": "",
        },
    }
    if hub:
        for key in ("access_token_env", "refresh_token_env"):
            del config["SrcStage"][key]  # the hub hands over ACCESS_TOKEN at spawn
    return config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state-dir", required=True, type=Path, help="the sandbox's state directory")
    parser.add_argument("--out", required=True, type=Path, help="where to write the JSON config")
    parser.add_argument("--hub", action="store_true", help="for single-user servers behind the demo hub")
    args = parser.parse_args()
    ready = json.loads((args.state_dir / "ready.json").read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(demo_config(ready, args.hub), indent=2))
    print(f"[srcstage] wrote {args.out}")


if __name__ == "__main__":
    main()
