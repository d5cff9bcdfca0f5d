"""The worker holds numpy's BLAS to the threads its settings give (one by default)."""

from __future__ import annotations

from threadpoolctl import threadpool_info, threadpool_limits

from contracts.settings import Settings
from streams.app import limit_blas_threads


def blas_threads() -> set[int]:
    return {pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"}


def test_the_worker_s_blas_runs_on_the_threads_its_settings_give() -> None:
    import numpy  # noqa: F401 (BLAS is loaded with numpy)

    before = threadpool_info()
    try:
        assert Settings().worker_blas_threads == 1
        limit_blas_threads(Settings(worker_blas_threads=2))
        assert blas_threads() == {2}
        limit_blas_threads(Settings())
        assert blas_threads() == {1}
        limit_blas_threads(Settings(worker_blas_threads=0))  # 0: left as it is
        assert blas_threads() == {1}
    finally:
        threadpool_limits(limits={pool["prefix"]: pool["num_threads"] for pool in before})
