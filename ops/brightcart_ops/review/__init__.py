"""Reviewed changes: review a dev environment against prod, approve it, gate `sqlmesh plan prod`.

build.py      `brightcart review <env>`: plan summary + data diff -> report folder + ops row
planinfo.py   what promoting an environment would change (from SQLMesh, nothing applied)
datadiff.py   SQLMesh table diff per new model version; KPI change per day for finance marts
kpi_columns.py  KPI columns of a model, found through the @kpi_* macros
report.py     review.json / review.md / review.html and their hash
approve.py    `brightcart approve <review-id>`
rules.py      segregation of duties and the finance group, shared by approve and the gate
gate.py       the promotion gate SQLMesh's plan evaluator calls (brightcart_sqlmesh.gate)
chain.py      `brightcart audit show <plan-id>` and the check for ungated applies
policy.py     ops/review_policy.yaml: groups, finance marts, approval lifetime
store.py      ops.reviews and ops.review_approvals
"""
