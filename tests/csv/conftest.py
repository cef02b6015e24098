"""Fixtures of the CSV synchronisation tests: upload through the real page, run the real
RQ jobs (SimpleWorker), read the state the page shows."""

from __future__ import annotations

import csv
import io

import pytest


class Sync:
    def __init__(self, browser, run_jobs, redis_url):
        self.b = browser
        self.run_jobs = run_jobs
        self.redis_url = redis_url

    def export(self) -> bytes:
        response = self.b.client.get("/annuaire/csv/export")
        assert response.status_code == 200
        return response.data

    def upload(self, data: bytes, name: str = "annuaire.csv") -> str:
        from werkzeug.datastructures import FileStorage
        from werkzeug.test import encode_multipart

        token = self.b.token("/annuaire/csv")
        # Encoded in memory: the test client would spool a big body to an unclosed file.
        boundary, body = encode_multipart({"csrf_token": token,
                                           "file": FileStorage(io.BytesIO(data), name,
                                                               content_type="text/csv")})
        response = self.b.client.post("/annuaire/csv/synchroniser", data=body,
                                      content_type=f"multipart/form-data; boundary={boundary}")
        assert response.status_code == 303, response.data[:400]
        return response.headers["Location"].rsplit("/", 1)[1]

    def state(self, token: str) -> dict:
        from webapp.services.directory_sync import state

        return state(self.redis_url, token)

    def preview(self, data: bytes) -> tuple[str, dict]:
        token = self.upload(data)
        self.run_jobs()
        return token, self.state(token)

    def confirm(self, token: str) -> dict:
        response = self.b.post(f"/annuaire/csv/synchroniser/{token}/appliquer",
                               {"confirm": "1"}, token_from=f"/annuaire/csv/synchroniser/{token}")
        assert response.status_code == 303, response.data[:400]
        self.run_jobs()
        return self.state(token)


def rows_of(data: bytes) -> list[dict]:
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";"))


def to_csv(rows: list[dict], delimiter: str = ";", encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), delimiter=delimiter,
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def sync(admin, run_jobs, redis_url):
    return Sync(admin, run_jobs, redis_url)
