"""Prompt templates: files with a front matter (name, version) and ``=== system ===`` / ``=== user ===`` parts.

A template may also hold ``=== task NAME ===`` parts: each is one model call, appended to the user part.
Tasks of one template share the system and article text, so a local model evaluates the article once and
reuses it from its prompt cache for the next task.

Templates are looked up by name in ``prompts/`` (shipped inside the wheel as ``factkit/_prompts_data``), or
loaded from any path the caller gives. User content is rendered by a sandboxed Jinja environment, so text
in an article is data and never template code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from ._errors import UsageError

_HERE = Path(__file__).resolve().parent
_SEARCH = [_HERE / "_prompts_data", _HERE.parent / "prompts"]
_SECTION = re.compile(r"^=== (system|user|task [\w-]+) ===[ \t]*$", re.MULTILINE)
_ENV = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)


@dataclass(frozen=True)
class Prompt:
    name: str
    version: str
    system: str
    user: str
    path: str
    tasks: dict[str, str]

    @property
    def id(self) -> str:
        """``name@version``, recorded in every result and part of every cache key."""
        return f"{self.name}@{self.version}"

    def render(self, task: str | None = None, **values: Any) -> list[dict[str, str]]:
        """Chat messages for these values (and one of the template's tasks)."""
        if task is not None and task not in self.tasks:
            raise UsageError(f"prompt {self.path} has no '=== task {task} ===' section")
        try:
            system = _template(self.system).render(**values).strip()
            user = _template(self.user).render(**values).strip()
            if task is not None:
                user += "\n\n" + _template(self.tasks[task]).render(**values).strip()
        except Exception as exc:
            raise UsageError(f"prompt {self.path} failed to render: {exc}") from None
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]


@functools.lru_cache(maxsize=128)
def _template(source: str) -> Any:
    return _ENV.from_string(source)


def prompt_dir() -> Path:
    for folder in _SEARCH:
        if folder.is_dir():
            return folder
    raise UsageError("factkit's prompts/ folder is missing from the installation; reinstall factkit")


@functools.lru_cache(maxsize=64)
def _load(path: str) -> Prompt:
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read prompt template {path}: {exc.strerror}") from None
    meta: dict[str, Any] = {}
    if raw.startswith("---"):
        _, front, raw = raw.split("---", 2)
        meta = yaml.safe_load(front) or {}
    parts = _SECTION.split(raw)
    sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
    if "user" not in sections:
        raise UsageError(f"prompt template {path} has no '=== user ===' section; see prompts/extract.md")
    if "{{ article }}" not in sections["user"] and "{{article}}" not in sections["user"]:
        raise UsageError(f"prompt template {path} never inserts {{{{ article }}}} in its user section")
    return Prompt(
        name=str(meta.get("name", p.stem)),
        version=str(meta.get("version", "0")),
        system=sections.get("system", ""),
        user=sections["user"],
        path=str(p),
        tasks={k.split(" ", 1)[1]: v for k, v in sections.items() if k.startswith("task ")},
    )


def load_prompt(name_or_path: str | Path) -> Prompt:
    """A shipped template by name (``"extract"``), or a template file the caller wrote."""
    candidate = Path(name_or_path)
    if candidate.suffix or candidate.exists() or "/" in str(name_or_path):
        if not candidate.exists():
            raise UsageError(f"prompt template {candidate} does not exist")
        return _load(str(candidate.resolve()))
    path = prompt_dir() / f"{name_or_path}.md"
    if not path.exists():
        names = sorted(q.stem for q in prompt_dir().glob("*.md"))
        raise UsageError(f"no prompt named {name_or_path!r}; shipped prompts: {', '.join(names)}")
    return _load(str(path))


def escape_article(text: str) -> str:
    """Keep the article inside its block: a literal closing tag in the text is defused."""
    # any case and spacing ("</ ARTICLE >") would read as a closing tag to a model: break the word in each
    return re.sub(r"</?\s*article\s*>", lambda m: _ARTICLE_WORD.sub("\\g<0>\u200b", m.group()), text, flags=re.I)


_ARTICLE_WORD = re.compile("article", re.I)
