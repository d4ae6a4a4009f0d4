"""/metrics needs a key: its per-route counts are the region's sales and ridership figures."""

from __future__ import annotations


async def test_metrics_need_a_metrics_or_admin_key(client, api_key):
    """Regression: anyone could read /metrics, and 201s on POST /v1/orders are the sales volume."""
    await client.get("/healthz")
    anonymous = await client.get("/metrics")
    assert anonymous.status == 401 and anonymous.content_type == "application/problem+json"
    assert "oura_http_requests" not in await anonymous.text()

    sales_point = await client.get("/metrics", headers={"Authorization": f"Bearer {await api_key('sales_point', 'sytral')}"})
    assert sales_point.status == 403

    for role in ("metrics", "admin"):
        answer = await client.get("/metrics", headers={"Authorization": f"Bearer {await api_key(role)}"})
        assert answer.status == 200
        assert 'oura_http_requests_total{method="GET",route="/healthz",status="200"}' in await answer.text()


async def test_a_metrics_key_reads_nothing_else(client, api_key):
    headers = {"Authorization": f"Bearer {await api_key('metrics')}"}
    assert (await client.get("/v1/clearing", params={"period": "2026-03"}, headers=headers)).status == 403


async def test_the_openapi_document_says_metrics_needs_a_key(client):
    document = await (await client.get("/openapi.json")).json()
    assert document["paths"]["/metrics"]["get"].get("security")
