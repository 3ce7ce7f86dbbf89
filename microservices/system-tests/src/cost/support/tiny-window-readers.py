"""Clients with a tiny receive window that never read: usage: tiny-window-readers.py PORT CONNS HOLD_S PATH [PIPELINE [TAIL_PATH TAIL_COUNT]].

Loopback's 64 KB segments and large default buffers let the kernel take whole answers from a client
that does not read; a 2 KB receive buffer and 1,400-byte segments behave like a real network, so the
answers stay in the server's process. Each connection sends PIPELINE GETs of PATH (default 1), then
TAIL_COUNT GETs of TAIL_PATH (default none), in one write, is held HOLD_S seconds
unread, then the status line each got is read (when any) and printed as one JSON object."""
import json
import socket
import sys
import time

port, conns, hold, path = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
pipeline = int(sys.argv[5]) if len(sys.argv) > 5 else 1
tail_path, tail_count = (sys.argv[6], int(sys.argv[7])) if len(sys.argv) > 7 else ("/", 0)
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * pipeline
request += f"GET {tail_path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode() * tail_count
held = []
for _ in range(conns):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1400)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(request)
        held.append(s)
    except OSError:
        s.close()
time.sleep(hold)
statuses = {}
for s in held:
    try:
        s.settimeout(0.5)
        line = s.recv(12).decode("latin1")
        status = line[9:12] if line.startswith("HTTP/1.1 ") else "none"
    except OSError:
        status = "none"
    statuses[status] = statuses.get(status, 0) + 1
    s.close()
print(json.dumps({"opened": len(held), "statuses": statuses}))
