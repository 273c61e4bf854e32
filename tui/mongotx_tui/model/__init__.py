"""The pure core of the workbench: operations, lanes, timeline, errors. Never imports textual."""
