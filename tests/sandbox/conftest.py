"""The sandbox's own tests run twice: on the in-process sandbox (`make check`) and on a sandbox process
over a real socket (the outer ring), so both keep the same promises."""

import pytest

from tests.conftest import SandboxApis


@pytest.fixture(params=["sandbox_inprocess", pytest.param("sandbox_process", marks=pytest.mark.outer)])
def sandbox(request: pytest.FixtureRequest) -> SandboxApis:
    return request.getfixturevalue(request.param)
