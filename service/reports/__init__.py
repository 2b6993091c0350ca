"""Reports: a finished job rendered through a report template as Markdown, HTML or JSON.

models.py        ReportTemplate (prompt + sections), Report (the record), ReportContent (what renders)
templates.py     built-in templates (templates/*.toml) plus the user's LONGDOC_REPORTING__REPORT_TEMPLATES_DIR
store.py         the Redis layout of reports, per tenant and per series (schedule or template + documents)
offline_logs.py  the daily log digest from the offline engine's log facts
offline_contracts.py  the contract portfolio from the offline engine's contract facts
build.py         job result -> ReportContent (offline facts, or one answer per section), and the diff
render.py        Markdown and HTML (every piece of content escaped)
service.py       create (on demand or for a schedule run), read (built lazily once the job ended), list
"""
