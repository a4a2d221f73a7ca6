"""The project wiring: settings, URLs, the source offer, the API root and the OpenAPI schema."""

import pytest


@pytest.mark.django_db
def test_api_root_offers_the_running_source(client):
    response = client.get("/api/v1/ai-accountability/")
    assert response.status_code == 200
    assert response.json()["source"]["license"] == "AGPL-3.0-or-later"
    assert response["Link"] == '</source/>; rel="source"'


@pytest.mark.django_db
def test_token_authentication(client, staff_user, project):
    response = client.post("/api/v1/ai-accountability/auth/token/", {"username": "staff", "password": "pw"})
    assert response.status_code == 200
    token = response.json()["token"]
    response = client.get("/api/v1/ai-accountability/projects/", HTTP_AUTHORIZATION=f"Token {token}")
    assert [p["key"] for p in response.json()["results"]] == ["proj-123"]
    bad = client.post("/api/v1/ai-accountability/auth/token/", {"username": "staff", "password": "nope"})
    assert bad.status_code == 400
