"""The language rules, one module per kind, each rule a piece of data (:class:`~factkit.rules._table.Rule`): an
id, a one-line reason, its pattern or function, examples it must match and counter-examples it must not.

- ``quotes.py``: quotations (the scanner) and who said them (the speaker patterns); a new quote rule goes here.
- ``furniture.py``: page furniture: captions, bylines, credits, headings, datelines, time stamps, pull quotes.
- ``statements.py``: when a statement can be a key point on its own, and how a name the parser found is cleaned.
- ``lexicon.py``: the word lists the rules read (the speech verbs, ...), each kind once.
- ``_table.py``: the :class:`~factkit.rules._table.Rule` type.

The rules import nothing above them (no parser, pipeline, records or backends: an import-linter contract); where a
rule needs the parse, the caller passes in what the parse says. ``tests/test_rules.py`` runs every table. Dates
(``factkit/rules/dates.py``) and quantities (``factkit/rules/quantities.py``) keep their own rule tables.
"""

from ._table import Rule

__all__ = ["Rule"]
