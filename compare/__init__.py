"""Claims, verdicts, the report, figures and the command line (``python -m compare``)."""
