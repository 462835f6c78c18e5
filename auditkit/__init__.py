"""auditkit: declarative evaluation and safety audits of language models."""

__version__ = "0.1.0"
