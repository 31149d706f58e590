"""The claim checker: ``verify(claim, article)`` -> a :class:`Verdict` (supported, contradicted or not found, with
its evidence spans, the reason, the score and the check that decided).

- ``_verify.py``: the checker and its rules (``CHECKS``: numbers, negation, who did what, narrowed places), the
  support score, and the combination with the model;
- ``_entail.py``: the model's half: the evidence for one sentence of a claim and the model's yes/no on it;
- ``calibration.json``: the combination's weights and threshold, fitted by ``benchmarks/verify_calibrate.py``.
"""

from ._verify import SUPPORT_THRESHOLD, Verdict, rules_verdict, verify

__all__ = ["SUPPORT_THRESHOLD", "Verdict", "rules_verdict", "verify"]
