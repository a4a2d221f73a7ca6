"""The project wiring: settings, URLs, the source offer, the API root and the OpenAPI schema."""

import pytest


@pytest.mark.django_db
def test_api_root_offers_the_running_source(client):
    response = client.get("/api/v1/ai-accountability/")
    assert response.status_code == 200
    assert response.json()["source"]["license"] == "AGPL-3.0-or-later"
    assert response["Link"] == '</source/>; rel="source"'
