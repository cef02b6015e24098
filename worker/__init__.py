"""RQ tasks (module-level functions taking ids) and the call-log consumer."""
