"""``make mutate``: plant bugs in the reliability-critical code with mutmut and report how many
the tests catch. GROUPS below is the one place that says what is mutated and which tests must
catch it: update it when code moves (the tool refuses to run while a target or test it names
no longer exists).

Usage: ``python tools/mutate.py [--group NAME ...] [--resume] [--report] [--show MUTANT]``.
Each group is a fresh mutmut run (results kept in ``.mutants/<group>/``; ``--resume`` re-runs
only the mutants not caught there). Changing a group's tests in GROUPS makes mutmut forget that
group's results: run it afresh then. All groups take about 50 minutes on 2 loaded cores (the
magics group alone about 20).
Survivors equivalent to the original code are listed with the reason in docs/mutation.md; the
run ends with the kill rate per module and lists every survivor not explained there.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------------
# What is mutated and which tests must catch it, in groups: each group is a separate mutmut run
# with only its own tests, so a surviving mutant costs the tests that concern it, not the suite.
# Targets: module -> functions (``name`` or ``Class.method``, globs allowed) whose behaviour the
# README promises. Tests: fast ones, over real loopback HTTP where a real engine can produce the
# case; no kernels or browsers (they do not survive mutmut's forked workers).


@dataclasses.dataclass(frozen=True)
class Group:
    targets: dict[str, list[str]]
    tests: list[str]
    #: pytest-timeout per test inside a mutant's run: a mutant that makes a test wait for ever
    #: is caught once it has waited this long.
    test_timeout: int = 60
    #: Tests of those files left out (``--deselect``): ones that start the engine as a
    #: process, where the mutant's code does not run and a slowed-down stop times out.
    deselect: tuple[str, ...] = ()


MAGICS_TESTS = "tests/test_magics.py::test_"
GROUPS: dict[str, Group] = {
    # The create look-up and the retry rules; key masking.
    "client": Group(
        targets={
            "lasso_notebook/_retry.py": [
                "RetryPolicy.backoff",
                "RetryPolicy.retry_after",
                "RetryPolicy.delay",
            ],
            "lasso_notebook/client.py": [
                "AsyncLasso.request",
                "AsyncLasso.create_table",
                "_connection_error",
                "_json_body",
            ],
            "lasso_notebook/_create_lookup.py": [
                "TableCreator.create",
                "TableCreator._create",
                "TableCreator._remember",
                "TableCreator._find",
                "_ambiguous",
                "look_patiently",
                "_failure_text",
                "_transient",
                "same_source",
                "source_matches",
            ],
            "lasso_notebook/_config.py": ["mask_key", "_clean_key"],
        },
        tests=[
            "tests/test_client_retries.py",
            "tests/test_create_lookup.py",
            "tests/test_fuzz_requests.py",
        ],
    ),
    # Frame assembly (every row once, by row_index) and typing (dtypes from the schema).
    "frames": Group(
        targets={
            "lasso_notebook/frames.py": ["_get_page", "fetch_rows", "_settle"],
            "lasso_notebook/_frame_build.py": [
                "RowColumns.add_flat",
                "RowColumns.add_rows",
                "_frame_index",
                "is_integer_column",
                "dtype_for",
                "_convert",
                "_is_missing",
                "_report",
                "frame_from_columns",
                "build_frame",
            ],
        },
        tests=["tests/test_frames.py"],
    ),
    # The magic's variable ownership: a newer cell owns VAR, an older job never overwrites it.
    "magics": Group(
        targets={
            "lasso_notebook/magics.py": [
                "LassoMagics._store",
                "LassoMagics._assign",
                "LassoMagics._background",
                "LassoMagics._block",
            ],
            "lasso_notebook/_magic_vars.py": [
                "View.of",
                "VarOwners.claim",
                "VarOwners.store",
                "VarOwners.release",
            ],
        },
        tests=[
            MAGICS_TESTS + name
            for name in (
                "blocking_cell_stores_a_typed_frame_in_var_and_the_next_cell_sees_it",
                "background_returns_at_once_and_sets_var_on_completion",
                "a_newer_cell_owns_the_variable",
                "background_jobs_on_one_var_finishing_in_reverse_order_keep_the_newer_result",
                "an_older_job_writing_var_cannot_overwrite_a_newer_cell",
                "an_older_job_failing_after_a_newer_cell_took_var_says_the_newer_cell_has_it",
                "background_without_widget_prints_a_failure",
                "a_detached_background_job_leaves_var_unset_and_says_so",
                "values_that_do_not_fit_are_reported",
                "a_blocking_cell_says_what_did_not_fit_without_a_warning",
                "timeout_says_the_table_goes_on_and_var_is_set_later",
                "interrupt_leaves_the_job_running_and_var_is_set_on_completion",
                "attach_to_a_followed_table_gets_its_own_shape_and_copy",
                "valid_only_on_an_attach_that_reuses_a_followed_job_leaves_out_error_rows",
                "a_blocking_attach_stores_its_own_shape_after_a_background_cell_on_that_var",
                "background_failure_under_a_widget_is_shown_there_not_printed",
                "no_widget_prints_a_summary_line_instead",
                "lasso_schemas_tables_and_jobs_are_frames",
                "failed_table_shows_the_server_reason_and_the_table_id",
            )
        ],
        test_timeout=10,
    ),
    # The engine's queue (claim, progress, finish, requeue) and its worker's table lifecycle.
    "engine": Group(
        targets={
            "lasso_notebook/server/_queue.py": ["Queue.*"],
            "lasso_notebook/server/worker.py": [
                "_Run.*",
                "WorkerPool._run",
                "WorkerPool._loop",
                "WorkerPool._heartbeat",
                "WorkerPool.start",
                "WorkerPool.stop",
            ],
        },
        # In process on a temp SQLite store, without HTTP or engine processes: the tests that
        # start real engines cost seconds per mutant and mostly reach this code by chance.
        tests=["tests/test_server_queue.py"],
        test_timeout=10,
    ),
}

#: Lines left alone: debug and info log calls are diagnostics, not behaviour anyone relies on
#: (warnings and errors, which users see, are mutated).
#: Nor lines that are only SQL text (the engine's queries): mutmut's string mutations of them
#: either change case, which SQLite ignores in keywords and identifiers, or wrap them in "XX",
#: a syntax error any test that runs the query catches; neither tells anything about the tests.
SQL_TEXT = r'^\s*"[^"]*\b(SELECT|UPDATE|INSERT|DELETE|WHERE|AND|OR|SET|NULL|VALUES|FROM|IS|COALESCE)\b[^"]*"[,)]*\s*$'
NOT_MUTATED = [r"^\s*log\.(debug|info)\(", SQL_TEXT]

#: A mutant's run may take this multiple of its tests' normal time (plus the constant) before
#: it counts as caught by timing out.
TIMEOUT_MULTIPLIER = 3.0
TIMEOUT_CONSTANT = 10.0
# --------------------------------------------------------------------------------------------

#: mutmut's exit codes per outcome (mutmut/stats.py); a timeout counts as caught.
CAUGHT = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout"}
CAUGHT |= {255: "timeout", 37: "caught by type check"}
#: A test process that crashed with the mutant in place (mutmut's "segfault"): the tests did not
#: pass either.
CAUGHT |= {-11: "crashed"}
OTHER = {0: "survived", 33: "no tests", 5: "no tests", None: "not run"}
EQUIVALENTS = ROOT / "docs" / "mutation.md"


def mutant_globs(module: str, functions: list[str]) -> list[str]:
    """mutmut's names for the mutants of ``functions`` in ``module`` (``pkg.mod.xǁClassǁfn__mutmut_3``
    for methods, ``pkg.mod.x_fn__mutmut_3`` for functions)."""
    dotted = module.removesuffix(".py").replace("/", ".")
    globs = []
    for function in functions:
        cls, _, name = function.rpartition(".")
        mangled = f"xǁ{cls}ǁ{name}" if cls else f"x_{name}"
        globs.append(f"{dotted}.{mangled}__mutmut_*")
    return globs


def defined_functions(module: str) -> set[str]:
    """The functions mutmut can mutate in ``module``: ``name`` for top-level functions,
    ``Class.method`` for methods of top-level classes."""
    tree = ast.parse((ROOT / module).read_text(), filename=module)
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    names = {node.name for node in tree.body if isinstance(node, functions)}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}.{f.name}" for f in node.body if isinstance(f, functions)}
    return names


def stale_targets() -> list[str]:
    """Every target or test in GROUPS that no longer exists (a module moved, a function was
    renamed or split, a test renamed): mutating nothing there would read as a clean result."""
    problems = []
    for name, group in GROUPS.items():
        for module, patterns in group.targets.items():
            if not (ROOT / module).is_file():
                problems.append(f"{name}: no module {module}")
                continue
            defined = defined_functions(module)
            problems += [
                f"{name}: no function {pattern} in {module}"
                for pattern in patterns
                if not fnmatch.filter(defined, pattern)
            ]
        for test in [*group.tests, *group.deselect]:
            path, _, function = test.partition("::")
            if not (ROOT / path).is_file():
                problems.append(f"{name}: no test file {path}")
            elif function and not re.search(
                rf"^(async )?def {re.escape(function)}\b", (ROOT / path).read_text(), re.M
            ):
                problems.append(f"{name}: no test {function} in {path}")
    return problems


def configure(group: Group) -> None:
    """mutmut reads its settings from pyproject.toml; these come from the group instead."""
    from mutmut import configuration

    base = configuration._load_config()
    configuration._config = dataclasses.replace(
        base,
        source_paths=[Path("lasso_notebook")],
        resolved_mutated_source_paths=[ROOT / "mutants" / "lasso_notebook"],
        only_mutate=list(group.targets),
        pytest_add_cli_args_test_selection=list(group.tests),
        # Plugins named, not discovered: scanning every installed package's entry points
        # costs most of a second per mutant (PYTEST_DISABLE_PLUGIN_AUTOLOAD is set in main()).
        pytest_add_cli_args=[
            *("-p", "pytest_timeout", "-p", "_hypothesis_pytestplugin", "-p", "no:cacheprovider"),
            f"--timeout={group.test_timeout}",
            *(f"--deselect={test}" for test in group.deselect),
        ],
        # The widgets' front-end files (read when a test makes a widget).
        also_copy=[*base.also_copy, Path("js")],
        do_not_mutate_patterns=NOT_MUTATED,
        timeout_multiplier=TIMEOUT_MULTIPLIER,
        timeout_constant=TIMEOUT_CONSTANT,
        # Collecting imports the test modules in the fork server; none of them starts a thread
        # at import, so every forked worker starts clean.
        process_isolation=configuration.ProcessIsolation.FORKSERVER,
        forkserver_warmup=configuration.ForkServerWarmup.COLLECT,
        use_git_change_detection=False,
    )


def run_group(name: str, children: int, resume: bool) -> None:
    """One mutmut run in ``mutants/`` (where mutmut works), kept as ``.mutants/<name>``. With
    ``resume``, only the mutants not caught in the kept results run (new tests, or a stopped
    run)."""
    from mutmut.__main__ import _run

    group = GROUPS[name]
    kept = ROOT / ".mutants" / name
    os.chdir(ROOT)
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    names = [g for module, fns in group.targets.items() for g in mutant_globs(module, fns)]
    if resume and kept.exists():
        shutil.move(kept, ROOT / "mutants")
        names = [k for k, v in group_outcomes(name, ROOT / "mutants").items() if v not in CAUGHT]
        if not names:
            print("every mutant of this group is caught already")
    configure(group)
    try:
        if names:
            _run(names, children)
    finally:
        shutil.rmtree(kept, ignore_errors=True)
        kept.parent.mkdir(exist_ok=True)
        if (ROOT / "mutants").exists():
            shutil.move(ROOT / "mutants", kept)


def group_outcomes(name: str, folder: Path) -> dict[str, int | None]:
    """Exit code per selected mutant of one group, from mutmut's result files in ``folder``."""
    codes: dict[str, int | None] = {}
    for module, functions in GROUPS[name].targets.items():
        meta = folder / (module + ".meta")
        found = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
        globs = mutant_globs(module, functions)
        codes |= {k: v for k, v in found.items() if any(fnmatch.fnmatch(k, g) for g in globs)}
    return codes


def outcomes() -> dict[str, dict[str, int | None]]:
    """Exit code per selected mutant, per module, from each group's last results."""
    results: dict[str, dict[str, int | None]] = {}
    for name, group in GROUPS.items():
        codes = group_outcomes(name, ROOT / ".mutants" / name)
        for module in group.targets:
            prefix = module.removesuffix(".py").replace("/", ".") + ".x"
            results[module] = {k: v for k, v in codes.items() if k.startswith(prefix)}
    return results


def targets_without_mutants() -> list[str]:
    """Targets of the groups that have results, for which those results hold no mutant."""
    missing = []
    for name, group in GROUPS.items():
        kept = ROOT / ".mutants" / name
        if not kept.exists():
            continue
        for module, functions in group.targets.items():
            meta = kept / (module + ".meta")
            found = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
            for function, glob in zip(functions, mutant_globs(module, functions), strict=True):
                if not fnmatch.filter(found, glob):
                    missing.append(f"{name}: {module} {function}")
    return missing


def listed_equivalents() -> set[str]:
    """Mutant names docs/mutation.md explains (the first column of its tables)."""
    if not EQUIVALENTS.exists():
        return set()
    return set(re.findall(r"^\|\s*`([\w.ǁ]+__mutmut_\d+)`", EQUIVALENTS.read_text(), re.M))


def report() -> float:
    """Print the kill rate per module and overall; return the overall rate in %."""
    explained = listed_equivalents()
    unexplained: list[str] = []
    total_caught = total = not_run = 0
    print("\nmutation results (caught = killed, or timed out; rates over the mutants run)")
    for module, codes in outcomes().items():
        counts = Counter(CAUGHT.get(v, OTHER.get(v, f"exit {v}")) for v in codes.values())
        caught = sum(n for status, n in counts.items() if status in CAUGHT.values())
        survivors = sorted(k for k, v in codes.items() if v not in CAUGHT and v is not None)
        unexplained += [k for k in survivors if k not in explained]
        run = sum(1 for v in codes.values() if v is not None)
        total_caught += caught
        total += run
        not_run += len(codes) - run
        rate = 100 * caught / run if run else 0.0
        detail = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        print(f"  {module:34} {caught:4d}/{run:4d} {rate:5.1f} %  ({detail})")
    rate = 100 * total_caught / total if total else 0.0
    print(f"  {'kill rate':34} {total_caught:4d}/{total:4d} {rate:5.1f} %")
    if not_run:
        # A stopped run: its rate says little until every mutant ran (the fastest run first).
        print(f"\n{not_run} mutants were not run; finish with: python tools/mutate.py --resume")
        rate = 0.0
    unmutated = targets_without_mutants()
    if unmutated:
        print(f"\n{len(unmutated)} targets have no mutants in their group's last results:")
        for target in unmutated:
            print(f"  {target}")
        print("(run their group again; a target mutmut cannot mutate does not belong in GROUPS)")
        rate = 0.0
    if unexplained:
        print(f"\n{len(unexplained)} surviving mutants are not listed in docs/mutation.md:")
        for name in unexplained:
            print(f"  {name}")
        print("(see one with: python tools/mutate.py --show NAME)")
    return rate


def show(name: str) -> int:
    """Print one mutant's diff (mutmut show, pointed at the group that holds it)."""
    import tempfile

    for group in GROUPS:
        kept = ROOT / ".mutants" / group
        metas = list(kept.glob("**/*.meta")) if kept.exists() else []
        if any(name in json.loads(m.read_text())["exit_code_by_key"] for m in metas):
            with tempfile.TemporaryDirectory() as scratch:
                (Path(scratch) / "mutants").symlink_to(kept)
                (Path(scratch) / "lasso_notebook").symlink_to(ROOT / "lasso_notebook")
                shutil.copy(ROOT / "pyproject.toml", scratch)
                mutmut = Path(sys.executable).with_name("mutmut")
                return subprocess.run([mutmut, "show", name], cwd=scratch).returncode
    print(f"no mutant {name} in .mutants/", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", nargs="*", choices=sorted(GROUPS), help="default: all")
    parser.add_argument("--report", action="store_true", help="only print the last results")
    parser.add_argument("--show", metavar="MUTANT", help="print one mutant's diff")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once")
    parser.add_argument(
        "--resume", action="store_true", help="run only the mutants not caught last time"
    )
    parser.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    stale = stale_targets()
    if stale:
        print("tools/mutate.py: GROUPS names code or tests that no longer exist:", file=sys.stderr)
        for problem in stale:
            print(f"  {problem}", file=sys.stderr)
        print("(update GROUPS to where the code moved)", file=sys.stderr)
        return 2
    if args.show:
        return show(args.show)
    if args.in_process:  # one group, in a process of its own (mutmut keeps global state)
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        run_group(args.group[0], args.children, args.resume)
        return 0
    if not args.report:
        for name in args.group or list(GROUPS):
            started = time.monotonic()
            print(f"== mutating group {name!r}", flush=True)
            command = [sys.executable, __file__, "--in-process", "--group", name]
            command += ["--children", str(args.children)] + (["--resume"] if args.resume else [])
            subprocess.run(command, check=True)
            print(f"== group {name!r} took {time.monotonic() - started:.0f} s", flush=True)
    return 0 if report() >= 90 else 1


if __name__ == "__main__":
    sys.exit(main())
