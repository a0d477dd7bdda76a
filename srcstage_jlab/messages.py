"""Every user-visible message of the server extension and the kernel API, in one place.

Fixed texts are constants; texts with values are `str.format` templates, filled
at the call site (`messages.DID_NOT_FOUND.format(did=did)`). Tests and the docs
quote these wordings, so change them here and there together. This module
imports nothing from the package, so anything may import it. Log lines are not
here; the sandbox keeps its own texts.
"""

# Server configuration (shown to the operator when the server starts)
TOKEN_SOURCE_HUB_WITHOUT_HUB_ENV = (
    "SrcStage.token_source is 'jupyterhub' but JUPYTERHUB_API_URL, JUPYTERHUB_USER or "
    "JUPYTERHUB_API_TOKEN is not set: this server was not started by a JupyterHub."
)

# REST answers of the server extension
REQUEST_REFUSED = "The request was refused."
UNEXPECTED_ERROR = "Something went wrong in the SRCNet staging extension; the server log has the details."

# An SRCNet answer that is not a success ({service} and {title} are one of the TITLE_ names)
TITLE_AUTH = "The SRCNet Auth API"
TITLE_SITE_CAPABILITIES = "The SRCNet Site Capabilities API"
TITLE_DATA_MANAGEMENT = "The SRCNet Data Management API"
SRCNET_REFUSED_INVALID = "{service} refused the request as invalid."
SRCNET_REFUSED_SIGN_IN = "{service} did not accept your SRCNet sign-in."
SRCNET_REFUSED_BY_POLICY = "{service} refused: this is not allowed by SRCNet policy."
SRCNET_NOT_FOUND = "{service} could not find it."
SRCNET_REFUSED_CONFLICT = "{service} refused: it conflicts with what already exists or with policy."
SRCNET_FAILED = "{title} failed (HTTP {status}). Try again in a moment."
SRCNET_ANSWERED_HTTP = "{title} answered HTTP {status}."

# SRCNet not answering
SRCNET_SLOW_RETRYING = "SRCNet is slow to answer; retrying"
SRCNET_TIMED_OUT = "{title} did not answer in time."
SRCNET_UNREACHABLE = "{title} cannot be reached ({kind})."

# Any SRCNet service ({title} is the service's name)
REPEAT_REFUSED_AFTER_LOST_ANSWER = (
    "{title} refused to repeat a request whose first answer was lost ({unsure.message}). The first "
    "request has probably taken effect; it is not tracked here."
)
ANSWER_NOT_JSON = "{title} answered with something that is not JSON."

# Sign-in: SRCNet Auth API and JupyterHub
AUTH_NO_ACCESS_TOKEN = "The SRCNet Auth API answered without an access token."
HUB_REFUSED_SHARING = (
    "JupyterHub refused to share your SRCNet sign-in (HTTP {response.status_code}): its 'server' role "
    "needs the scopes read:users!user and admin:auth_state!user."
)
HUB_HTTP_ERROR = "JupyterHub answered HTTP {response.status_code}."
HUB_HOLDS_NO_TOKEN = (
    "JupyterHub holds no SRCNet token for you (auth_state is empty or not shared with this server: "
    "enable_auth_state, and admin:auth_state!user on the 'server' and 'user' roles). Log in to the hub "
    "again."
)
SIGN_IN_EXPIRED = "Your SRCNet sign-in has expired. Sign in again."
DEVICE_CODE_OFF = "Signing in with a device code is turned off on this server."
DEVICE_SIGN_IN_NOT_STARTED = "The SRCNet Auth API did not start a device sign-in."
SIGN_OUT_THROUGH_HUB = "You are signed in to SRCNet through {hub}: log out of the hub to sign out."
HUB_NO_ANSWER = "JupyterHub did not answer ({kind}); try again in a moment."
NOT_SIGNED_IN = (
    "You are not signed in to SRCNet. Sign in from the SRCNet staging sidebar, or ask your administrator "
    "how this server receives your SRCNet token."
)
HUB_SIGN_IN_EXPIRED = (
    "Your SRCNet sign-in through {hub} has expired and the hub has not renewed it. Log in to the hub again."
)
SIGN_IN_NOT_RENEWED = "Your SRCNet sign-in has expired and could not be renewed. Sign in again."

# Sign-in with a device code
DEVICE_SIGN_IN_DENIED = "The device sign-in was denied. Start again."
DEVICE_SIGN_IN_EXPIRED = "The device sign-in expired. Start again."
DEVICE_CODE_EXPIRED = "The device sign-in code expired before it was approved. Start again."

# Data Management API
DM_ROUTE_BAD_SPEC = "dm_routes['{op}'] must look like 'POST /data/stage', not '{spec}'"
DM_ROUTE_UNKNOWN = "dm_routes: unknown operation '{op}' (known: {known})"
DM_DOWNLOAD_NO_TOKEN = "The DM API's download answer carries no access_token."
DM_STAGE_NO_JOB_ID = "The SRCNet Data Management API accepted the staging request but returned no job id."

# Data Management operations, and why one is not served here
DM_OPERATIONS = {
    "list_dids": "searching a namespace",
    "create_collection": "creating a collection DID",
    "read_collection": "reading a collection DID",
    "stage": "the staging request",
    "stage_status": "the staging status",
    "download": "a storage read token (download mode)",
    "extend_stage": "extending a staged copy's lifetime",
    "release_stage": "releasing a staged copy",
}
DM_ROUTE_TURNED_OFF = "set to '' in c.SrcStage.dm_routes"
DM_ROUTE_MISSING = "answered HTTP {status} {detail!r}"
DM_NOT_SERVED = "This SRCNet Data Management API does not serve {what} ({route}: {why})."

# Features the Data Management API here may not serve ({route}: {why} say which route and why)
SUBMIT_ONLY_NOT_SERVED = (
    "Submitting without staging is not available: this Data Management API does not serve "
    "creating a collection DID. Stage instead: the staging request makes the parent DID."
)
SEARCH_NOT_SERVED = (
    "Searching is not available: this Data Management API does not serve listing a namespace. "
    "Add DIDs by their full name (namespace:name)."
)
EXTEND_NOT_SERVED = (
    "Extending is not available: this Data Management API does not serve changing a staged "
    "copy's lifetime ({route}: {why})."
)
RELEASE_NOT_SERVED = (
    "Releasing is not available: this Data Management API does not serve giving a staged "
    "copy back early ({route}: {why})."
)
NO_ROUTE = "no route"

# Destination: Site Capabilities
NO_AREA_CAN_TAKE_DATA = "No storage area at site {site_name} can take staged data now ({considered})."
HUB_SERVICE_NOT_LISTED = (
    "No JupyterHub service '{who}' is listed in Site Capabilities, so the storage next to this server is "
    "unknown. An administrator can set c.SrcStage.destination_rse."
)
SITE_UNKNOWN = (
    "This server does not know which SRCNet site it runs at. An administrator can set "
    "c.SrcStage.destination_rse, c.SrcStage.jupyterhub_host or c.SrcStage.site_name."
)
AREA_NOT_KNOWN = "The configured storage area '{wanted}' is not known to Site Capabilities."
AREA_NOT_A_TARGET = "The configured storage area {area.name} cannot be a staging target: {reason}."

# Destination: why a storage area cannot take staged data, and how the destination was found
FORCE_DISABLED = "force-disabled by its operators"
IN_DOWNTIME = "in {kind} downtime until {until}"
STORAGE_INACTIVE = "its storage is {reason}"
AREA_NOT_RSE = "it is of type '{type}', not 'rse'"
NO_AREAS_LISTED = "none are listed"
FOUND_BY_CONFIGURATION = "{area} is set in this server's configuration."
FOUND_BY_HUB_SERVICE = "{area} is the storage area of this JupyterHub."
FOUND_BY_SIBLING_SERVICE = "{area} serves the compute this JupyterHub runs on."
FOUND_BY_SITE = "{area} is an active storage area of site {site_name}."

# Request validation at the edge; the texts follow a field path such as 'body' or 'query.limit'
NAME_PATTERN_CHARACTERS = "a name pattern may only contain letters, digits, '.', '-', '_', '/' and '*' wildcards"
OPENAPI_NO_OPERATION = "openapi.yaml does not describe {method} {path}"
MUST_BE_JSON_OBJECT = "must be a JSON object"
MUST_BE_BOOLEAN = "must be true or false"
NOT_UNICODE = "is not valid Unicode text"
NESTED_TOO_DEEPLY = "is nested too deeply (at most {most} levels)"
BODY_TOO_LARGE = "is {size} bytes; at most {most} are accepted"
QUERY_VALUE_TOO_LONG = "is {length} characters long; at most {most} are allowed"
# {expected} is one of the kinds below; {got} is what was given, in JSON's words
MUST_BE_KIND = "must be {expected}, not {got}"
JSON_KINDS = {
    "string": "a string",
    "array": "a list",
    "object": "an object",
    "number": "a number",
    "integer": "a whole number",
}
MUST_NOT_BE_EMPTY = "must not be empty"
TOO_MANY_ITEMS = "has {count} items; at most {most} are allowed"
MUST_BE_ONE_OF = "must be one of {allowed}, not {shown}"
MUST_BE_AT_LEAST = "must be at least {expected}, not {shown}"
MUST_BE_AT_MOST = "must be at most {expected}, not {shown}"
NOT_JSON = "is not valid JSON"
MUST_BE_WHOLE_NUMBER = "must be a whole number"
IS_REQUIRED = "is required"
NOT_UTF8 = "is not valid UTF-8"

# DIDs (kernel side)
DID_NOT_A_STRING = "A DID is a 'namespace:name' string, got {kind}."
DID_BAD_VALUE = "A DID is 'namespace:name', got {value!r}."
NOT_A_DID = "'{text}' is not a DID: write it as namespace:name."
DID_PART_MISSING = "'{text}' is not a DID: both the namespace and the name are needed."

# DIDs (server side)
DID_INVALID = "'{text}' is not a valid DID: {problem}."
DID_PARTS_NOT_STRINGS = "A DID must have a string namespace and name, got {value!r}."
DID_MUST_BE_STRING = "A DID must be a 'namespace:name' string, got {kind}."

# Why Rucio would refuse a DID (the {problem} of DID_INVALID)
DID_NAME_EMPTY = "the name is empty"
DID_NAME_TOO_LONG = "the name is {length} characters long; at most {most} are allowed"
DID_NAME_HAS_DOTDOT = "the name contains '..'"
DID_NAME_CHARACTERS = (
    "the name may only contain letters, digits, '.', '-', '_' and '/', and must start with a letter, digit or '/'"
)
DID_NAMESPACE_EMPTY = "the namespace is empty"
DID_NAMESPACE_CHARACTERS = (
    "the namespace must be 1 to 25 letters, digits, '.', '-' or '_', starting with a letter or digit"
)

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
EXPORT_WRONG_FORMAT = "This is not a collection export (expected format '{expected}')."
EXPORT_NEEDS_DIDS = "A collection export needs a list of DIDs."
NO_COLLECTION_WITH_ID = "There is no collection with id '{collection_id}'."

# Pre-checks before staging ({asked} and {cap} are described lifetimes such as '14 days')
LIFETIME_OVER_CAP = "The lifetime {asked} is longer than the {cap} allowed."
# {what} is WHAT_EXTENSION or WHAT_RETRY
LIFETIME_OVER_CAP_REFUSED = "The lifetime {asked} is longer than the {cap} allowed; {what} refused."
WHAT_EXTENSION = "the extension is"
WHAT_RETRY = "the retry is"
COLLECTION_EMPTY = "The collection is empty."
COLLECTION_NAMED_EMPTY = "The collection '{name}' is empty."

# What staging a collection needs (sizes in MB)
TOO_MANY_TO_LOCATE = "too many entries to locate before submitting; Submit first to count them"
OVER_QUOTA = (
    "This collection needs {needed:.1f} MB but only {left:.1f} MB of your quota is left at {destination} "
    "({used:.1f} of {limit:.1f} MB used). Stage less, free space by releasing a staged copy you no longer need, "
    "or ask the site for more quota."
)

# Staging jobs
NO_STATE_GIVEN = "(no state given)"
NO_JOB_TRACKED = "No staging job '{job_id}' is tracked by this server."
STATE_WORD_BAD_PHASE = "state_words['{word}'] must be one of {phases}, not '{phase}'"

# What a job staged when it has no parent DID of its own (the confirmed staging request)
MEMBERS_DESCRIPTION = "collection of {count} DIDs in {namespace}"

# Downloads (one file's failure)
DOWNLOAD_CHECKSUM_MISMATCH = "{item.did}: size or adler32 does not match the DID metadata"
DOWNLOAD_HTTP_ERROR = "storage answered HTTP {response.status_code} for {item.did}"

# Reading staged files ({area} is a storage area's name, or THE_DESTINATION when not known yet)
THE_DESTINATION = "the destination"
FILES_NOT_READABLE = (
    "Staged files cannot be read on this server: it has no mount of {area}, and this Data Management "
    "API does not serve the download route ({route}: {why})."
)
NO_MOUNT = (
    "This server has no mount of {area}, so staged files cannot be opened here. An administrator sets "
    "c.SrcStage.mounts."
)

# Staging service: submitting collections, staged paths
NO_WRITABLE_NAMESPACE = (
    "You own no SRCNet namespace to create the collection's DID in. Choose a namespace you may write into."
)
EVERY_NAME_TAKEN = "Every name tried for '{collection.name}' is taken in {namespace}. Submit with an explicit name."
DEFAULT_LIFETIME_OVER_MAX = "SrcStage.default_lifetime is longer than SrcStage.max_lifetime"
COLLECTION_EMPTY_ON_SUBMIT = "The collection '{collection.name}' is empty: add DIDs before submitting."
JOB_NOT_COMPLETE = "Job {job_id} is not complete (state {job.state}); its files are not all at the destination yet."
DID_NOT_AT_DESTINATION = (
    "{did} is not (all) at {where} yet ({result[missing]} file(s) missing). Stage it, e.g. "
    "srcstage.collection('my-data').add('{did}').stage(lifetime='7d'), or from the SRCNet staging "
    "sidebar."
)
SUBMITTED_BUT_STAGING_REFUSED = "Submitted as {did}; staging refused: {said}"
DID_EXISTS_OTHER_CONTENTS = "{did} already exists in SRCNet with other contents. Submit under another name."
DID_NOT_FOUND = "{did} does not exist in SRCNet (or you may not see it)."

# Job actions: extend, retry
EXTEND_NEEDS_LIFETIME = "Say how long to keep the staged copy, e.g. lifetime '14d'."
EXTEND_NOTHING_STAGED = "Job {job.id} is {job.phase} ({job.state}): there is no staged copy to extend."
RETRY_SAME_JOB = "The Data Management API answered the retry of {job.id} with the same job."
RETRY_NOT_FAILED = "Job {job.id} has not failed (it is {job.phase}, {job.state}): nothing to retry."
DESTINATION_MOVED = (
    "Job {job.id} staged to {staged_to}, but this server's destination is now {now}: stage the "
    "collection again instead."
)

# Data declared in a notebook's metadata (srcstage.require); the short texts follow a field path
# {where} is the field inside the metadata (".collections[0].name"), {what} one of the texts below
DECLARED_FIELD = "metadata.{key}{where}: {what}"
DECLARED_NEEDS_COLLECTIONS_LIST = 'must be an object with a list "collections"'
NO_DIDS_AND_NO_NOTEBOOK = (
    "No DIDs given and the running notebook could not be found: pass the DIDs "
    "(srcstage.require('ns:name', ...)) or the notebook (srcstage.require(notebook='analysis.ipynb'))."
)
NOTEBOOK_DECLARES_NO_DATA = "The notebook declares no data (no metadata.{key})."
DECLARED_COLLECTION_NOT_AN_OBJECT = "must be an object with name, dids and an optional lifetime"
DECLARED_NAME_MISSING = "give the collection a name"
DECLARED_DIDS_MISSING = "give a non-empty list of DIDs (namespace:name)"
DECLARED_LIFETIME_INVALID = "a number of seconds or a text such as '7d'"
DECLARED_TWICE = "{name!r} is declared twice"

# Kernel API: finding the Jupyter server
# How the server was found (said after "found by")
FOUND_BY_HUB_PREFIX_AND_RUNTIME_FILE = "$JUPYTERHUB_SERVICE_PREFIX and a runtime file"
FOUND_BY_HUB_PREFIX = "$JUPYTERHUB_SERVICE_PREFIX (port 8888)"
FOUND_BY_PARENT_RUNTIME_FILE = "the runtime file of the server that started this kernel"
FOUND_BY_ONLY_SERVER = "the only running server with srcstage"
SEVERAL_SERVERS = "Several Jupyter servers with srcstage run here ({listed}); say which one to use."
NO_SERVER_FOUND = (
    "Could not find the Jupyter server to talk to: {env_url} is not set, there are no JupyterHub variables, and of "
    "the {count} running Jupyter server(s) in {where} none started this kernel or answers /srcstage/config."
)

# Kernel API: talking to the Jupyter server
SERVER_TIMED_OUT = "The Jupyter server at {url} did not answer in time ({kind})."
SERVER_UNREACHABLE = "Could not reach the Jupyter server at {url} (found by {found_by}): {err}"
NOT_A_SERVER_URL = "{url!r} is not a Jupyter server URL such as 'http://127.0.0.1:8888/'."
SERVER_ANSWER_NOT_JSON = "{response.request.url} did not answer JSON: is this the srcstage extension?"

# Kernel API: errors from the Jupyter server's answers
HOW_TO_CONNECT = (
    "Point to it with srcstage.connect('http://127.0.0.1:8888/', token='<jupyter server token>'), "
    "or set the environment variables {env_url} (and {env_token})."
)
HINT_SIGN_IN = "Sign in from the SRCNet staging sidebar in JupyterLab, or run srcstage.sign_in()."
SERVER_ANSWERED_HTTP = "The server answered HTTP {status}."
KERNEL_TOKEN_REFUSED = "The Jupyter server refused this kernel's token (HTTP {status} for {url})."
EXTENSION_NOT_ENABLED = (
    "{url} does not exist: the srcstage extension is not enabled on that Jupyter server "
    "(or the URL is not a Jupyter server's base URL)."
)

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
PATH_STAGING_STARTED = (
    "\nStaging started for you: job {job_id} (wait with srcstage.job('{job_id}').wait(), then call "
    "srcstage.path again)."
)
PATHS_WAIT_FIRST = " Wait for it with job.wait() (or await job.await_done()) first."
DEVICE_SIGN_IN_PROMPT = "To sign in to SRCNet, open {url} and enter the code {code}."
JOB_STATE_UNREADABLE = "(cannot read the job's state: {why}; retrying)"
JOB_WAIT_TIMED_OUT = (
    "Staging job {job_id} did not finish within {timeout:g} s (state {state}); it goes on: "
    "wait again with srcstage.job('{job_id}').wait()."
)
# followed by ". <SRCNet's message>" or "."
JOB_FAILED = "Staging job {job_id} ({what}) failed: state {state}"
IMPORT_NOT_EXPORT = "That is not a collection export: {err}"

# Kernel API: progress of a job or a download
DOWNLOAD_BAR_LABEL = "Download"
NO_STATE = "(no state)"
STATE_NOT_KNOWN = " (state not known to srcstage; still waiting)"
DOWNLOADED_STATE = "downloaded ({reused} reused, {refetched} fetched again, {failed} failed)"

# Running a notebook with its own Jupyter server
RUN_SERVER_STARTED = "started a Jupyter server for this run on {url} (log: {log.name})"
RUN_CELL_FAILED = "a cell failed:\n{err}"
RUN_WROTE = "wrote {output}"
RUN_CANNOT_READ = "cannot read {notebook}: {err}"
RUN_NO_DATA_DECLARED = "{notebook.name} declares no data (no metadata.srcstage): running it as it is."
RUN_COLLECTION_DIDS = "{name}: {count} DID(s)"
RUN_COLLECTION_STAGED = "{name}: {count} file(s) at the destination"
RUN_STAGING_FAILED = "staging did not succeed, so {notebook.name} was not run.\n{err}"
RUN_SERVER_EXITED = "The Jupyter server started for this run exited (code {proc.returncode}); see {log.name}."
RUN_SERVER_SILENT = "The Jupyter server started for this run did not answer in {timeout:.0f} s; see {log.name}."

# The ipywidgets helper: refusals
WIDGET_CHOOSE_NAMESPACE = "Choose a namespace to search in."
WIDGET_SELECT_RESULTS = "Select one or more results to add."
WIDGET_SELECT_TO_REMOVE = "Select DIDs of the collection to remove."
WIDGET_COLLECTION_EMPTY = "The collection '{collection.name}' is empty: add DIDs first."
WIDGET_NO_JOB = "No job to act on: stage the collection first."
WIDGET_ACTION_NOT_APPLICABLE = "{action} does not apply to a job that is {phase}."

# The ipywidgets helper: labels, tooltips and placeholders
WIDGET_TITLE = "SRCNet staging"
WIDGET_LABEL_NAMESPACE = "Namespace"
WIDGET_LABEL_NAME = "Name"
WIDGET_PLACEHOLDER_PATTERN = "pattern with * wildcards"
WIDGET_LABEL_TYPE = "Type"
WIDGET_LABEL_SEARCH = "Search"
WIDGET_TIP_SEARCH = "Search DIDs"
WIDGET_LABEL_RESULTS = "Results"
WIDGET_LABEL_ADD = "Add to collection"
WIDGET_TIP_ADD = "Add the selected results to the collection"
WIDGET_LABEL_COLLECTION = "Collection"
WIDGET_LABEL_OPEN = "Open"
WIDGET_TIP_OPEN = "Open (or create) the collection with this name"
WIDGET_LABEL_DIDS = "DIDs"
WIDGET_LABEL_REMOVE = "Remove selected"
WIDGET_TIP_REMOVE = "Remove the selected DIDs from the collection"
WIDGET_LABEL_LIFETIME = "Lifetime"
WIDGET_LABEL_STAGE = "Stage"
WIDGET_LABEL_PROGRESS = "Progress"
WIDGET_LABEL_KEEP_FOR = "Keep for"
WIDGET_PLACEHOLDER_KEEP_FOR = "e.g. 14d"
WIDGET_LABEL_EXTEND = "Extend"
WIDGET_TIP_EXTEND = "Keep the staged copy this long from now"
WIDGET_LABEL_RELEASE = "Release"
WIDGET_TIP_RELEASE = "Give the staged copy back now"
WIDGET_LABEL_RETRY = "Retry"
WIDGET_TIP_RETRY = "Stage the failed job's DIDs again"
WIDGET_TIP_STAGE = "Stage the collection next to this JupyterLab"
WIDGET_TIP_STAGE_NAMED = "Stage the collection '{name}' next to this JupyterLab"

# The ipywidgets helper: what it says ({s} is the plural ending, "s" or ""; HTML where it shows)
WIDGET_UNEXPECTED_ERROR = "Unexpected error:"
WIDGET_SAID = "{who} said:"
WIDGET_SIGNED_IN_AS = "signed in as {who}"
WIDGET_NOT_SIGNED_IN = "<b>not signed in</b> (use the SRCNet sidebar or srcstage.sign_in())"
WIDGET_ONLY_FIRST = " (only the first {limit}: narrow the pattern)"
# {more} is WIDGET_ONLY_FIRST or ""
WIDGET_FOUND = "{count} DID{s} found{more}."
WIDGET_ADDED = "Added {count} DID{s} to '{name}'."
WIDGET_REMOVED = "Removed {count} DID{s}."
WIDGET_KEPT_UNTIL = "Kept until {until} (job {job_id})."
WIDGET_RELEASED = "Released the staged copy of job {job_id}."
WIDGET_NOT_SERVED = "{action}: not served here"
WIDGET_STAGING_FAILED = "Staging failed: state {state}."
WIDGET_JOB = "job"
WIDGET_AND_MORE = "... and {count} more"
WIDGET_STAGED_FILES = (
    "Staged {count} file{s}; read them from:<ul>{shown}{more}</ul>In code: "
    "<code>srcstage.job('{job_id}').paths()</code>"
)
WIDGET_STAGE_TARGET = "{count} DID{s} of <b>{name}</b>"
