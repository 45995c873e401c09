"""Runner for Eltex's ECSS-10 QA suite (JSON test files + SIPp scenarios) against SSW.

`run_file(load_qa_file(path), RunSettings(...))` runs one file against a fresh switch; the
command `ssw qa` (module `cli`) runs files and groups and writes docs/CONFORMANCE.md.
"""

from .report import REQUIRED_GROUPS, render_report, write_report
from .runner import FileResult, RunSettings, TestResult, run_file
from .suite import QaFile, QaFormatError, load_qa_file

__all__ = [
    "REQUIRED_GROUPS",
    "FileResult",
    "QaFile",
    "QaFormatError",
    "RunSettings",
    "TestResult",
    "load_qa_file",
    "render_report",
    "run_file",
    "write_report",
]
