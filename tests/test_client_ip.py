import pytest

from portal.middleware import client_ip


@pytest.mark.parametrize(
    "remote, forwarded, proxies, expected",
    [
        ("203.0.113.9", "", 0, "203.0.113.9"),
        # No trusted proxy: whatever the client wrote is ignored.
        ("203.0.113.9", "1.2.3.4", 0, "203.0.113.9"),
        # One proxy (nginx) appended the peer it saw.
        ("10.0.0.2", "198.51.100.7", 1, "198.51.100.7"),
        # A client that forges X-Forwarded-For cannot choose its key.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7", 1, "198.51.100.7"),
        # CDN + nginx: two trusted hops.
        ("10.0.0.2", "6.6.6.6, 198.51.100.7, 172.16.0.5", 2, "198.51.100.7"),
        # Fewer addresses than proxies: the left-most one, still written by a proxy.
        ("10.0.0.2", "198.51.100.7", 3, "198.51.100.7"),
        ("10.0.0.2", " , ", 1, "10.0.0.2"),
    ],
)
def test_client_ip_is_the_rightmost_untrusted_address(remote, forwarded, proxies, expected):
    meta = {"REMOTE_ADDR": remote, "HTTP_X_FORWARDED_FOR": forwarded}
    assert client_ip(meta, proxies) == expected
