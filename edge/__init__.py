"""ExamGate edge daemon: identity check at an exam-centre gate lane."""

__version__ = "0.1.0"
