"""One pytest case per unified-format spec test, with ids `<area>/<file>::<description>`."""

from __future__ import annotations

import pytest

from .requirements import Unsupported
from .runner import Skip, run_case
from .specs import SpecCase, iter_cases, spec_dir
from .target import Target

_ROOT = spec_dir()
if _ROOT.is_dir():
    _PARAMS = [pytest.param(case, id=case.case_id) for case in iter_cases(_ROOT)]
else:  # one visible skip instead of an empty suite
    _reason = f"spec tests not found at {_ROOT} (set MONGOTX_SPEC_TESTS)"
    _PARAMS = [pytest.param(None, id="spec-tests-missing", marks=pytest.mark.skip(reason=_reason))]


@pytest.mark.parametrize("case", _PARAMS)
def test_spec(case: SpecCase, conformance_target: Target) -> None:
    try:
        run_case(case, conformance_target)
    except Skip as exc:
        pytest.skip(str(exc))
    except Unsupported as exc:
        pytest.fail(f"unsupported: {exc}", pytrace=False)
