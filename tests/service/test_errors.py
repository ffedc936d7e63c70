"""Error responses promise only what is true: an unexpected error may have lost work."""

from __future__ import annotations


def test_an_unexpected_error_does_not_claim_the_work_was_saved(app, client):
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug")

    app.add_url_rule("/boom", "boom", boom, methods=["GET", "POST"])
    app.add_url_rule("/api/v1/boom", "api_boom", boom)
    for path, accept in (
        ("/boom", "text/html"),
        ("/boom", "application/json"),
        ("/api/v1/boom", ""),
    ):
        response = client.get(path, headers={"Accept": accept})
        assert response.status_code == 500
        text = response.get_data(as_text=True)
        assert "saved" in text and "work is saved" not in text
        assert "may not have been saved" in text
