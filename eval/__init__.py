"""Evaluation harness: gold set → answers of policyqa and baselines → metrics → report and gate."""
