"""portal/gunicorn.py: a request's cyclic garbage is collected after its response, not inside the next."""

import weakref

from portal import gunicorn as config


class _Node:
    pass


def test_post_request_frees_a_requests_reference_cycles():
    node = _Node()
    node.itself = node  # a cycle: only the cyclic collector frees it
    alive = weakref.ref(node)
    del node
    assert alive() is not None
    config.post_request(None, None, {}, None)
    assert alive() is None


def test_a_full_collection_every_full_every_requests(monkeypatch):
    calls = []
    monkeypatch.setattr(config.gc, "collect", lambda *generation: calls.append(generation))
    for _ in range(2 * config.FULL_EVERY):
        config.post_request(None, None, {}, None)
    assert calls.count(()) == 2 and calls.count((1,)) == 2 * config.FULL_EVERY - 2
