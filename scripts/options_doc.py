"""Print (or check) the Markdown table of every `c.SrcStage` option, generated from the traitlets.

    python scripts/options_doc.py --write README.md docs/operator-guide.md   # refresh the tables
    python scripts/options_doc.py --check README.md                          # fail if one drifted

The table lives between `<!-- srcstage-options:start -->` and `<!-- srcstage-options:end -->`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

START, END = "<!-- srcstage-options:start -->", "<!-- srcstage-options:end -->"


def options_table() -> str:
    from srcstage_jlab.app import SrcStage

    rows = ["| option | default | what it does |", "|---|---|---|"]
    for name, trait in sorted(SrcStage.class_own_traits(config=True).items()):
        default = trait.default_value_repr()
        if name == "state_dir":
            default = "`<jupyter data dir>/srcstage`"
        else:
            default = f"`{default}`"
        help_text = " ".join((trait.help or "").split()).replace("|", "\\|")
        rows.append(f"| `c.SrcStage.{name}` | {default} | {help_text} |")
    return "\n".join(rows)


def replace_block(text: str, table: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", nargs="*", default=[])
    parser.add_argument("--check", nargs="*", default=[])
    args = parser.parse_args()
    table = options_table()
    if not args.write and not args.check:
        print(table)
    for path in map(Path, args.write):
        path.write_text(replace_block(path.read_text(), table))
    stale = [p for p in args.check if replace_block(Path(p).read_text(), table) != Path(p).read_text()]
    if stale:
        print(f"Options tables out of date in: {', '.join(stale)}; run scripts/options_doc.py --write", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
