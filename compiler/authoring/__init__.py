"""Tools for clinical editors and reviewers, built on the pipeline: `annotate`
(lint --annotate), `new_table` (new), `diff` (diff, show), `watch` and `site` (report)."""
