"""Anonymised statistics for the authorities (issue 14): released tables of validations, sales and
origin–destination flows, protected by small-cell suppression (and optionally differential
privacy), and the short life of identifying validation data.

Layout (see README.md in this folder):
  model.py    the pure data: raw and released tables, families, settings
  privacy.py  pure: small-cell suppression with complementary suppression, month post-processing
  dp.py       pure: differentially private noise (OpenDP), contribution bounds
  release.py  computes a closed period's raw tables from PostgreSQL and stores the released ones
  purge.py    removes serials and contract links past the retention
  jobs.py     the background job: release closed periods, then purge
  reports.py  reads released tables for a caller (derived groupings, CSV)
  charts.py   PNG charts and the monthly HTML report (matplotlib)
  http.py     GET /v1/statistics/...
"""
