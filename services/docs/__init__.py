"""Living documentation (the seed's DocumentationMaintenance): the monthly review of DOCS_DIR and
the metrics document regenerated from the live configuration."""
