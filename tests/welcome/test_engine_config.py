"""docs/protocol.md: the document built from the database validates and reflects LINE-3."""

from engine.config import parse


def test_protocol_document_from_demo_data_validates(demo, db_conn):
    from webapp.services.engine_config import build_document

    document = build_document()
    parse(document)  # raises with the faulty path when invalid
    assert document["lines"]["+33100000104"] == {"accept_queue_calls": True,
                                                 "backup": "+33600000104"}
    assert "+33600000101" not in document["lines"]  # mobiles are not agent lines


def test_line3_queue_flag_reaches_the_document(tenant, db_conn):
    from webapp.models import Service
    from webapp.services.engine_config import build_document

    number = tenant.line.number
    Service.update(accept_queue_calls=False).where(Service.number == number).execute()
    assert build_document()["lines"][number]["accept_queue_calls"] is False
