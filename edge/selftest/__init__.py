"""`examgate selftest`: every part of the lane checked in one go, each result with a remedy.

``edge.selftest.runner.run_checks`` runs them; ``edge.selftest.model`` holds ``CheckResult`` and ``SelftestContext``.
"""
