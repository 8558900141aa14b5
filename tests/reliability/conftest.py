"""The reliability suite's figures: each test records what it tried and what it found
(`reliability_report(...)`), and the session ends with one table of them all — what
`make soak` prints (kills, statements, deliveries, lost, duplicates, faults, inputs)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

COLUMNS = ("kills", "statements", "deliveries", "lost", "duplicates", "faults", "inputs")
_FIGURES = pytest.StashKey[list[tuple[str, dict[str, int]]]]()

Report = Callable[..., None]


@pytest.fixture
def reliability_report(request: pytest.FixtureRequest) -> Report:
    """Record this test's figures (any of COLUMNS, plus extras) and print them on one line."""

    def record(**figures: int) -> None:
        name = request.node.name.removeprefix("test_")
        request.config.stash.setdefault(_FIGURES, []).append((name, figures))
        print(f"\n{name}: " + " ".join(f"{k}={v}" for k, v in figures.items()))

    return record


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    rows = config.stash.get(_FIGURES, [])
    if not rows:
        return
    width = max(len(name) for name, _ in rows)
    write = terminalreporter.write_line
    terminalreporter.section("reliability figures")
    write(f"{'test':<{width}}  " + " ".join(f"{c:>10}" for c in COLUMNS))
    totals = dict.fromkeys(COLUMNS, 0)
    for name, figures in rows:
        cells = []
        for column in COLUMNS:
            value = figures.get(column)
            if value is not None:
                totals[column] += value
            cells.append(f"{'-' if value is None else value:>10}")
        write(f"{name:<{width}}  " + " ".join(cells))
    write(f"{'total':<{width}}  " + " ".join(f"{totals[c]:>10}" for c in COLUMNS))
