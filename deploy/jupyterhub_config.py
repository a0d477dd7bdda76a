# Reference JupyterHub configuration for an SRCNet node running srcstage-jlab.
#
# An operator copies this file and sets the environment (or edits the defaults). The same file
# runs the local demo and the hub tests against the sandbox's IAM stand-in
# (`./scripts/demo --hub`), so what is tested is what is deployed.
#
# How tokens flow (docs/architecture.md, "Tokens under JupyterHub"):
#   1. The user logs in to the hub with SKA IAM (authorization-code flow, offline_access).
#      oauthenticator keeps access and refresh token in the hub's encrypted auth state
#      (JUPYTERHUB_CRYPT_KEY must be set).
#   2. At spawn (after refresh_pre_spawn) the access token goes into the server's environment as
#      ACCESS_TOKEN; srcstage-jlab takes it out of os.environ before any kernel starts. The refresh
#      token stays in the hub: refresh tokens are single use, so exactly one party refreshes them.
#   3. Later the server reads the hub's current token with its own API token:
#      GET $JUPYTERHUB_API_URL/users/$JUPYTERHUB_USER (role below). The hub refreshes the pair
#      first (refresh_before_expiry) once auth_refresh_age has passed and the access token has
#      less than SRCSTAGE_HUB_REFRESH_MARGIN seconds left.
import base64
import json
import os
import sys
import time

from jupyterhub.spawner import SimpleLocalProcessSpawner
from oauthenticator.generic import GenericOAuthenticator

c = get_config()  # noqa: F821 (provided by JupyterHub when it loads this file)
env = os.environ.get

# --- Identity provider: SKA IAM -------------------------------------------------------------
# Real SKA IAM:               https://ska-iam.stfc.ac.uk
# The sandbox's IAM stand-in: the Auth API URL from its ready file (http://127.0.0.1:PORT/api/v1)
iam = env("SRCSTAGE_IAM_URL", "https://ska-iam.stfc.ac.uk").rstrip("/")
c.JupyterHub.authenticator_class = GenericOAuthenticator
c.GenericOAuthenticator.authorize_url = f"{iam}/authorize"
c.GenericOAuthenticator.token_url = f"{iam}/token"
c.GenericOAuthenticator.userdata_url = f"{iam}/userinfo"
# Client registered with IAM for this hub; oauthenticator also reads OAUTH_CLIENT_ID,
# OAUTH_CLIENT_SECRET and OAUTH_CALLBACK_URL (e.g. https://jupyterhub.<node>.skao.int/hub/oauth_callback).
c.GenericOAuthenticator.client_id = env("OAUTH_CLIENT_ID", "")
c.GenericOAuthenticator.client_secret = env("OAUTH_CLIENT_SECRET", "")
c.GenericOAuthenticator.login_service = env("SRCSTAGE_LOGIN_SERVICE", "SKA IAM")
c.GenericOAuthenticator.scope = ["openid", "profile", "email", "offline_access"]
c.GenericOAuthenticator.username_claim = "preferred_username"
# Who may log in: everyone IAM lets through here; a node would rather use allowed_groups
# with manage_groups / claim_groups_key = "groups".
c.GenericOAuthenticator.allow_all = True

# --- Tokens: kept, refreshed, handed to the server -------------------------------------------
c.Authenticator.enable_auth_state = True  # needs JUPYTERHUB_CRYPT_KEY (openssl rand -hex 32)
c.Authenticator.refresh_pre_spawn = True
# How often (s) the hub looks at a user's tokens when a request of theirs (or of their server)
# arrives; keep it below the server's SrcStage.token_refresh_margin (60 s by default).
c.Authenticator.auth_refresh_age = int(env("SRCSTAGE_HUB_AUTH_REFRESH_AGE", "30"))
REFRESH_MARGIN_S = float(env("SRCSTAGE_HUB_REFRESH_MARGIN", "120"))
_refreshing = {}  # user name -> asyncio.Lock: one refresh per user at a time (single-use tokens)


def _seconds_left(access_token):
    try:
        payload = access_token.split(".")[1]
        exp = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]
        return float(exp) - time.time()
    except (IndexError, KeyError, ValueError, TypeError):
        return 0.0  # not a JWT we can read: let the provider decide


async def refresh_before_expiry(authenticator, user, auth_state):
    """Refresh the pair shortly before the access token expires, not after.

    oauthenticator's own refresh asks userinfo and refreshes only once the access token is
    refused; a server would then hold an expired token until the next check. Here: no call at
    all while the token is fresh, a refresh-token grant once it has < REFRESH_MARGIN_S left.
    """
    import asyncio

    lock = _refreshing.setdefault(user.name, asyncio.Lock())
    async with lock:
        auth_state = await user.get_auth_state()  # again, inside the lock: another refresh may have won
        if not auth_state or not auth_state.get("refresh_token"):
            return None  # oauthenticator's default: check the token, or require a new login
        if _seconds_left(auth_state.get("access_token", "")) > REFRESH_MARGIN_S:
            return True
        try:
            token_info = await authenticator.get_token_info(
                None, authenticator.build_refresh_token_request_params(auth_state["refresh_token"])
            )
        except Exception as err:  # the provider said no: the user must log in again
            authenticator.log.info("Refreshing SRCNet tokens of %s failed (%s)", user.name, type(err).__name__)
            return False
        token_info.setdefault("refresh_token", auth_state["refresh_token"])
        user_info = auth_state.get(authenticator.user_auth_state_key) or {}
        new_state = authenticator.build_auth_state_dict(token_info, user_info)
        await user.save_auth_state(new_state)
        return {"name": user.name, "auth_state": new_state}


c.GenericOAuthenticator.refresh_user_hook = refresh_before_expiry


def put_token_in_environment(spawner, auth_state):
    """At spawn: the access token only (srcstage-jlab removes it from os.environ at start)."""
    if auth_state and auth_state.get("access_token"):
        spawner.environment["ACCESS_TOKEN"] = auth_state["access_token"]


c.Spawner.auth_state_hook = put_token_in_environment

# What the roles grant: the single-user server's own API token may read its own user's model
# and auth state (`!user` = only the user who owns the server), nothing about anyone else.
# A server token gets only the scopes its user holds too, so the `user` role needs the same
# `admin:auth_state!user` (a user may read their own tokens, never another's).
c.JupyterHub.load_roles = [
    {
        "name": "server",
        "scopes": ["users:activity!user", "access:servers!server", "read:users!user", "admin:auth_state!user"],
    },
    {"name": "user", "scopes": ["self", "admin:auth_state!user"]},
]

# --- Where it runs ------------------------------------------------------------------------------
c.JupyterHub.bind_url = env("SRCSTAGE_HUB_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env("SRCSTAGE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = env("SRCSTAGE_PROXY_API_URL", "http://127.0.0.1:8001")
# configurable-http-proxy from npm; scripts/install.sh --hub puts it in .venv/hub-proxy/.
c.ConfigurableHTTPProxy.command = [env("SRCSTAGE_CHP", "configurable-http-proxy")]
hub_dir = env("SRCSTAGE_HUB_DIR", "")
if hub_dir:
    c.JupyterHub.db_url = f"sqlite:///{hub_dir}/jupyterhub.sqlite"
    c.JupyterHub.cookie_secret_file = f"{hub_dir}/jupyterhub_cookie_secret"
    c.ConfigurableHTTPProxy.pid_file = f"{hub_dir}/jupyterhub-proxy.pid"

# Servers as local processes without system users (a node would use KubeSpawner or
# DockerSpawner, with the RSE mounted read-only, e.g. at /home/jovyan/rse).
c.JupyterHub.spawner_class = SimpleLocalProcessSpawner
c.SimpleLocalProcessSpawner.home_dir_template = env("SRCSTAGE_HUB_HOMES", "/tmp/srcstage-hub-homes") + "/{username}"
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.ip = "127.0.0.1"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
server_args = ["--allow-root"] if os.getuid() == 0 else []
server_config = env("SRCSTAGE_SERVER_CONFIG", "")  # the single-user servers' c.SrcStage settings
if server_config:
    server_args.append(f"--config={server_config}")
c.Spawner.args = server_args
