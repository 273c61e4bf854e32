"""The diagram's file formats, chosen by the file's extension (the CLI's --diagram and the
workbench's export)."""

from __future__ import annotations

from .diagram import Story, as_mermaid, as_text
from .diagram_svg import as_svg

FORMATS = {".svg": "SVG", ".md": "Mermaid in Markdown", ".txt": "plain text"}


def format_problem(name: str) -> str | None:
    """Why a file name cannot take a diagram (its extension), or None."""
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.rsplit("/", 1)[-1] else ""
    if suffix in FORMATS:
        return None
    return f"the file name must end in .svg, .md or .txt (not {suffix or 'no extension'})"


def render(s: Story, name: str) -> str:
    """The story in the format of the file `name` (.svg, .md, .txt)."""
    problem = format_problem(name)
    if problem is not None:
        raise ValueError(problem)
    suffix = "." + name.rsplit(".", 1)[-1].lower()
    if suffix == ".svg":
        return as_svg(s)
    return as_mermaid(s) if suffix == ".md" else as_text(s)


__all__ = ["FORMATS", "format_problem", "render"]
