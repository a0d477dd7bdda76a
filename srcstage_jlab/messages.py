"""Every user-visible message of the server extension and the kernel API, in one place.

Fixed texts are constants; texts with values are `str.format` templates, filled
at the call site (`messages.DID_NOT_FOUND.format(did=did)`). Tests and the docs
quote these wordings, so change them here and there together. This module
imports nothing from the package, so anything may import it. Log lines are not
here; the sandbox keeps its own texts.
"""

# Server configuration (shown to the operator when the server starts)
TOKEN_SOURCE_HUB_WITHOUT_HUB_ENV = "SrcStage.token_source is 'jupyterhub' but JUPYTERHUB_API_URL, JUPYTERHUB_USER or JUPYTERHUB_API_TOKEN is not set: this server was not started by a JupyterHub."

# Sign-in: SRCNet Auth API and JupyterHub
AUTH_NO_ACCESS_TOKEN = "The SRCNet Auth API answered without an access token."
HUB_REFUSED_SHARING = "JupyterHub refused to share your SRCNet sign-in (HTTP {response.status_code}): its 'server' role needs the scopes read:users!user and admin:auth_state!user."
HUB_HTTP_ERROR = "JupyterHub answered HTTP {response.status_code}."
HUB_HOLDS_NO_TOKEN = "JupyterHub holds no SRCNet token for you (auth_state is empty or not shared with this server: enable_auth_state, and admin:auth_state!user on the 'server' and 'user' roles). Log in to the hub again."
SIGN_IN_EXPIRED = "Your SRCNet sign-in has expired. Sign in again."
DEVICE_CODE_OFF = "Signing in with a device code is turned off on this server."
DEVICE_SIGN_IN_NOT_STARTED = "The SRCNet Auth API did not start a device sign-in."
SIGN_OUT_THROUGH_HUB = "You are signed in to SRCNet through {hub}: log out of the hub to sign out."
HUB_NO_ANSWER = "JupyterHub did not answer ({kind}); try again in a moment."
NOT_SIGNED_IN = "You are not signed in to SRCNet. Sign in from the SRCNet staging sidebar, or ask your administrator how this server receives your SRCNet token."
HUB_SIGN_IN_EXPIRED = (
    "Your SRCNet sign-in through {hub} has expired and the hub has not renewed it. Log in to the hub again."
)
SIGN_IN_NOT_RENEWED = "Your SRCNet sign-in has expired and could not be renewed. Sign in again."

# Any SRCNet service ({title} is the service's name)
REPEAT_REFUSED_AFTER_LOST_ANSWER = "{title} refused to repeat a request whose first answer was lost ({unsure.message}). The first request has probably taken effect; it is not tracked here."
ANSWER_NOT_JSON = "{title} answered with something that is not JSON."

# Data Management API
DM_ROUTE_BAD_SPEC = "dm_routes['{op}'] must look like 'POST /data/stage', not '{spec}'"
DM_ROUTE_UNKNOWN = "dm_routes: unknown operation '{op}' (known: {known})"
DM_DOWNLOAD_NO_TOKEN = "The DM API's download answer carries no access_token."
DM_STAGE_NO_JOB_ID = "The SRCNet Data Management API accepted the staging request but returned no job id."

# Destination: Site Capabilities
NO_AREA_CAN_TAKE_DATA = "No storage area at site {site_name} can take staged data now ({considered})."
HUB_SERVICE_NOT_LISTED = "No JupyterHub service '{who}' is listed in Site Capabilities, so the storage next to this server is unknown. An administrator can set c.SrcStage.destination_rse."
SITE_UNKNOWN = "This server does not know which SRCNet site it runs at. An administrator can set c.SrcStage.destination_rse, c.SrcStage.jupyterhub_host or c.SrcStage.site_name."
AREA_NOT_KNOWN = "The configured storage area '{wanted}' is not known to Site Capabilities."
AREA_NOT_A_TARGET = "The configured storage area {area.name} cannot be a staging target: {reason}."

# Request validation at the edge; the texts follow a field path such as 'body' or 'query.limit'
NAME_PATTERN_CHARACTERS = "a name pattern may only contain letters, digits, '.', '-', '_', '/' and '*' wildcards"
OPENAPI_NO_OPERATION = "openapi.yaml does not describe {method} {path}"
MUST_BE_JSON_OBJECT = "must be a JSON object"
MUST_BE_BOOLEAN = "must be true or false"
NOT_UNICODE = "is not valid Unicode text"
NESTED_TOO_DEEPLY = "is nested too deeply (at most {MAX_DEPTH} levels)"
BODY_TOO_LARGE = "is {size} bytes; at most {most} are accepted"
QUERY_VALUE_TOO_LONG = "is {length} characters long; at most {most} are allowed"
NOT_JSON = "is not valid JSON"
MUST_BE_WHOLE_NUMBER = "must be a whole number"
IS_REQUIRED = "is required"
NOT_UTF8 = "is not valid UTF-8"

# DIDs
DID_NOT_A_STRING = "A DID is a 'namespace:name' string, got {kind}."
DID_BAD_VALUE = "A DID is 'namespace:name', got {value!r}."
NOT_A_DID = "'{text}' is not a DID: write it as namespace:name."
DID_PART_MISSING = "'{text}' is not a DID: both the namespace and the name are needed."

# DIDs (server side)
DID_INVALID = "'{text}' is not a valid DID: {problem}."
DID_PARTS_NOT_STRINGS = "A DID must have a string namespace and name, got {value!r}."
DID_MUST_BE_STRING = "A DID must be a 'namespace:name' string, got {kind}."

# Lifetimes
LIFETIME_WRONG_TYPE = "A lifetime must be a number of seconds or a duration such as '7d'."
LIFETIME_NAN = "A lifetime must be a number of seconds, not NaN."
LIFETIME_UNDER_ONE_SECOND = "A lifetime must be at least one second."
LIFETIME_ABSURD = "The lifetime '{shown}' is absurdly long (over 100 years); the longest allowed is much shorter."
LIFETIME_UNPARSEABLE = "'{value}' is not a lifetime: use seconds or a duration such as '12h', '7d' or 'P7D'."

# Collections and their exports
COLLECTION_NEEDS_NAME = "A collection needs a name."
COLLECTION_NAME_TOO_LONG = "A collection name may be at most 200 characters long."
COLLECTION_NAME_TAKEN = "A collection named '{name}' already exists."
EXPORT_WRONG_FORMAT = "This is not a collection export (expected format '{EXPORT_FORMAT}')."
EXPORT_NEEDS_DIDS = "A collection export needs a list of DIDs."
NO_COLLECTION_WITH_ID = "There is no collection with id '{collection_id}'."

# Staging jobs
NO_JOB_TRACKED = "No staging job '{job_id}' is tracked by this server."
STATE_WORD_BAD_PHASE = "state_words['{word}'] must be one of {phases}, not '{phase}'"

# Downloads (one file's failure)
DOWNLOAD_CHECKSUM_MISMATCH = "{item.did}: size or adler32 does not match the DID metadata"
DOWNLOAD_HTTP_ERROR = "storage answered HTTP {response.status_code} for {item.did}"

# Staging service: submitting collections, staged paths
NO_WRITABLE_NAMESPACE = (
    "You own no SRCNet namespace to create the collection's DID in. Choose a namespace you may write into."
)
EVERY_NAME_TAKEN = "Every name tried for '{collection.name}' is taken in {namespace}. Submit with an explicit name."
DEFAULT_LIFETIME_OVER_MAX = "SrcStage.default_lifetime is longer than SrcStage.max_lifetime"
COLLECTION_EMPTY_ON_SUBMIT = "The collection '{collection.name}' is empty: add DIDs before submitting."
JOB_NOT_COMPLETE = "Job {job_id} is not complete (state {job.state}); its files are not all at the destination yet."
DID_NOT_AT_DESTINATION = "{did} is not (all) at {where} yet ({result[missing]} file(s) missing). Stage it, e.g. srcstage.collection('my-data').add('{did}').stage(lifetime='7d'), or from the SRCNet staging sidebar."
SUBMITTED_BUT_STAGING_REFUSED = "Submitted as {did}; staging refused: {said}"
DID_EXISTS_OTHER_CONTENTS = "{did} already exists in SRCNet with other contents. Submit under another name."
DID_NOT_FOUND = "{did} does not exist in SRCNet (or you may not see it)."

# Job actions: extend, retry
EXTEND_NEEDS_LIFETIME = "Say how long to keep the staged copy, e.g. lifetime '14d'."
EXTEND_NOTHING_STAGED = "Job {job.id} is {job.phase} ({job.state}): there is no staged copy to extend."
RETRY_SAME_JOB = "The Data Management API answered the retry of {job.id} with the same job."
RETRY_NOT_FAILED = "Job {job.id} has not failed (it is {job.phase}, {job.state}): nothing to retry."
DESTINATION_MOVED = "Job {job.id} staged to {staged_to}, but this server's destination is now {now}: stage the collection again instead."

# Data declared in a notebook's metadata (srcstage.require); the short texts follow a field path
DECLARED_NEEDS_COLLECTIONS_LIST = 'must be an object with a list "collections"'
NO_DIDS_AND_NO_NOTEBOOK = "No DIDs given and the running notebook could not be found: pass the DIDs (srcstage.require('ns:name', ...)) or the notebook (srcstage.require(notebook='analysis.ipynb'))."
NOTEBOOK_DECLARES_NO_DATA = "The notebook declares no data (no metadata.{METADATA_KEY})."
DECLARED_COLLECTION_NOT_AN_OBJECT = "must be an object with name, dids and an optional lifetime"
DECLARED_NAME_MISSING = "give the collection a name"
DECLARED_DIDS_MISSING = "give a non-empty list of DIDs (namespace:name)"
DECLARED_LIFETIME_INVALID = "a number of seconds or a text such as '7d'"
DECLARED_TWICE = "{name!r} is declared twice"

# Kernel API: finding the Jupyter server
SEVERAL_SERVERS = "Several Jupyter servers with srcstage run here ({listed}); say which one to use."
NO_SERVER_FOUND = (
    "Could not find the Jupyter server to talk to: {env_url} is not set, there are no JupyterHub variables, and of "
    "the {count} running Jupyter server(s) in {where} none started this kernel or answers /srcstage/config."
)

# Kernel API: talking to the Jupyter server
NOT_A_SERVER_URL = "{url!r} is not a Jupyter server URL such as 'http://127.0.0.1:8888/'."
SERVER_ANSWER_NOT_JSON = "{response.request.url} did not answer JSON: is this the srcstage extension?"

# Kernel API: collections, jobs, sign-in, import
IMPORT_BAD_SOURCE = "Give the exported collection as a dict, its JSON text, or a file path."
SIGN_IN_TIMED_OUT = "No SRCNet sign-in was approved within {timeout:.0f} s."
COLLECTION_NEEDS_NAME_EXAMPLE = "A collection needs a name, e.g. srcstage.collection('my-analysis')."
JOB_ID_EMPTY = "A job id is a non-empty string."
PATH_TAKES_ONE_DID = "srcstage.path() takes one DID, e.g. srcstage.path('ska-mid:obs-2026-0001')."
SEARCH_NEEDS_NAMESPACE = "Choose a namespace to search in, e.g. srcstage.search('ska-mid')."
IMPORT_NO_FILE = "No collection export at {p} (give the exported dict, its JSON text or a path)."
ADD_NEEDS_DIDS = "Give at least one DID to add, e.g. c.add('ska-mid:obs-2026-0001')."
COLLECTION_NEVER_STAGED = (
    "The collection '{name}' was never staged: stage it first, e.g. srcstage.collection('{name}').stage(lifetime='7d')."
)
NO_COLLECTION_NAMED = "There is no collection named '{name}'."
# {why} is ": <the reason>" or "."
SIGN_IN_INCOMPLETE = "The SRCNet sign-in did not complete{why}"
IMPORT_FILE_NOT_EXPORT = "{p} is not a collection export: {err}"
IMPORT_NOT_EXPORT = "That is not a collection export: {err}"

# Running a notebook with its own Jupyter server
RUN_SERVER_EXITED = "The Jupyter server started for this run exited (code {proc.returncode}); see {log.name}."
RUN_SERVER_SILENT = (
    "The Jupyter server started for this run did not answer in {SERVER_START_TIMEOUT_S:.0f} s; see {log.name}."
)

# The ipywidgets helper
WIDGET_CHOOSE_NAMESPACE = "Choose a namespace to search in."
WIDGET_SELECT_RESULTS = "Select one or more results to add."
WIDGET_SELECT_TO_REMOVE = "Select DIDs of the collection to remove."
WIDGET_COLLECTION_EMPTY = "The collection '{collection.name}' is empty: add DIDs first."
WIDGET_NO_JOB = "No job to act on: stage the collection first."
WIDGET_ACTION_NOT_APPLICABLE = "{action} does not apply to a job that is {phase}."
