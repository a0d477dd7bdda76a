"""The Python side's user messages live in one module, srcstage_jlab/messages.py.

These checks read the source (no server needed): every message there is used, every template
is well formed, and no user-visible sentence has crept back into the modules it covers.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from srcstage_jlab import errors, messages
from srcstage_jlab.kernel import errors as kernel_errors

PACKAGE = Path(messages.__file__).parent
MESSAGES_PY = PACKAGE / "messages.py"
# The sandbox is a stand-in for SRCNet, not our extension: it keeps its own texts.
COVERED = sorted(p for p in PACKAGE.rglob("*.py") if "sandbox" not in p.relative_to(PACKAGE).parts and p != MESSAGES_PY)

# Calls whose literal text argument would be a user-visible message.
EXCEPTION_NAMES = {
    name
    for module in (errors, kernel_errors)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, BaseException)
} | {"ValueError", "KeyError", "OSError", "TypeError", "RuntimeError"}
MESSAGE_HELPERS = {"_invalid", "_refuse", "_Refused", "_say", "note", "_show_error"}
# Widget keywords a user reads.
WIDGET_TEXT_KEYWORDS = {"description", "tooltip", "placeholder"}
# Dict keys of answers whose value a user reads.
MESSAGE_KEYS = {"message", "why", "hint", "unknown_reason"}


def message_names() -> dict[str, str]:
    """Every module-level text of messages.py (a dict of texts counts with its values)."""
    tree = ast.parse(MESSAGES_PY.read_text())
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            (target,) = node.targets
            names[target.id] = ast.literal_eval(node.value)
    return names


def is_sentence(node: ast.AST) -> bool:
    """A string literal (or f-string) whose literal text has words and a space: a message, not a code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    else:
        return False
    return " " in text and re.search(r"[A-Za-z]{2}", text) is not None


def callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")


def left_in(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """Message literals still written in `path` rather than taken from messages.py."""
    src = path.read_text()
    found = []

    def flag(node: ast.AST, why: str) -> None:
        found.append(f"{path.relative_to(root)}:{node.lineno} ({why}): {ast.get_source_segment(src, node)}")

    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Call):
            name = callee(node)
            if name in EXCEPTION_NAMES or name.endswith("Error") or name in MESSAGE_HELPERS:
                for arg in node.args:
                    if is_sentence(arg):
                        flag(arg, f"{name}(...)")
            for kw in node.keywords:
                if name == "ArgumentParser":  # command-line help, like traitlets' help=, is documentation
                    continue
                if kw.arg in WIDGET_TEXT_KEYWORDS and isinstance(kw.value, (ast.Constant, ast.JoinedStr)):
                    text = kw.value.value if isinstance(kw.value, ast.Constant) else "f-string"
                    if isinstance(text, str) and re.search(r"[A-Za-z]{2}", text):
                        flag(kw.value, f"{kw.arg}=")
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in MESSAGE_KEYS and is_sentence(value):
                    flag(value, f"{key.value!r}:")
        elif isinstance(node, ast.Raise) and node.exc is not None and is_sentence(node.exc):
            flag(node.exc, "raise")
    return found


def test_messages_imports_nothing_from_the_package():
    """Anything may import messages.py, so it must import nothing of ours (no import cycle)."""
    tree = ast.parse(MESSAGES_PY.read_text())
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert imports == []


def test_every_name_is_assigned_once():
    """A second assignment would silently replace a wording."""
    tree = ast.parse(MESSAGES_PY.read_text())
    targets = [t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets]
    assert len(targets) > 150
    assert sorted(t for t in set(targets) if targets.count(t) > 1) == []
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", t) for t in targets)


def test_every_message_is_used_somewhere():
    """No dead message: each name is read as messages.NAME by a module of the package."""
    sources = "\n".join(p.read_text() for p in COVERED)
    used = set(re.findall(r"\bmessages\.([A-Z][A-Z0-9_]*)\b", sources))
    defined = message_names()
    assert sorted(set(defined) - used) == []
    assert sorted(used - set(defined)) == []  # and no call site names a message that does not exist


def test_templates_are_well_formed():
    """Each text parses as a str.format template, and its fields are names (no positional {})."""
    texts = []
    for value in message_names().values():
        texts.extend(value.values() if isinstance(value, dict) else [value])
    for text in texts:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        assert all(re.match(r"[a-z_][a-z0-9_]*", f) for f in fields), text


def test_templates_render_with_their_fields():
    """A few wordings the docs and other tests quote, rendered the way their call sites do."""
    assert (
        messages.LIFETIME_OVER_CAP.format(asked="60 days", cap="30 days")
        == "The lifetime 60 days is longer than the 30 days allowed."
    )
    assert messages.NOT_A_DID.format(text="nocolon") == "'nocolon' is not a DID: write it as namespace:name."
    assert messages.SIGN_IN_INCOMPLETE.format(why=".") == "The SRCNet sign-in did not complete."
    assert messages.OVER_QUOTA.format(needed=2.5, left=1, destination="STFC_STORM", used=9, limit=10).startswith(
        "This collection needs 2.5 MB but only 1.0 MB of your quota is left at STFC_STORM (9.0 of 10.0 MB used)."
    )


def test_no_message_literal_is_left_in_the_covered_modules():
    """Errors raised or built, widget labels, answer messages and CLI lines take their text from
    messages.py. Debug reprs (``__repr__``) and log lines are not user messages and stay put."""
    assert len(COVERED) > 30  # the server extension, the kernel API, the widgets and the runner
    left = [line for path in COVERED for line in left_in(path)]
    assert left == []


def test_the_scan_finds_a_message_literal(tmp_path):
    """The scan itself works: a raised literal, a widget label and an answer's message are flagged."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def f(x):\n"
        "    w.Button(description='Stage now')\n"
        "    problems.append({'code': 'empty', 'message': f'The collection {x} is empty.'})\n"
        "    raise InvalidInput('A collection needs a name.')\n"
    )
    left = sorted(line.split(" (")[0] for line in left_in(sample, tmp_path))
    assert left == ["sample.py:2", "sample.py:3", "sample.py:4"]
