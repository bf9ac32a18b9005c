"""Where a customer's request came from, for counting failed verifications per client.

Set by our channels on every message (metadata `client_address`), whatever the
client sent. Only a proxy on this machine (nginx in the cluster) is trusted:
it appends the address it saw to X-Forwarded-For, so the last hop that is not
loopback is the client's; what a client wrote before it is its own say.
"""

from __future__ import annotations

import ipaddress

CLIENT_ADDRESS_KEY = "client_address"


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def client_address(peer: str, forwarded: str) -> str:
    """The client's address, from the connection's peer and its X-Forwarded-For."""
    if not is_loopback(peer):
        return peer
    for hop in reversed(forwarded.split(",")):
        hop = hop.strip()
        if not hop or is_loopback(hop):
            continue
        try:
            return str(ipaddress.ip_address(hop))
        except ValueError:
            break  # not an address: no further hop is trustworthy
    return peer
